// Where a job came from, for its card: "Variation of [/imagine (image 2)](link to the parent's card)".
import type { JobRow } from '../../jobs/store-types.js';
import type { CardParent } from '../cardRenderer.js';
import type { BotContext } from '../wiring/context.js';

/** A message link Discord opens in the client (`@me` for direct messages). */
export function messageLink(row: Pick<JobRow, 'guildId' | 'channelId' | 'messageId'>): string | null {
  if (row.channelId === null || row.messageId === null) return null;
  return `https://discord.com/channels/${row.guildId ?? '@me'}/${row.channelId}/${row.messageId}`;
}

/**
 * The parent of a job as its card shows it, from the job's lineage (its row's, or the submission's for a new job:
 * only the parent's row is read); null for a job nobody made from another.
 */
export function parentOf(ctx: Pick<BotContext, 'store' | 'logger'>, child: Lineage): CardParent | null {
  if (child.parentId === null) return null;
  let parent: JobRow | null;
  try {
    parent = ctx.store.get(child.parentId);
  } catch (error) {
    // The card is still worth showing without its lineage.
    ctx.logger.error({ err: error, job: child.id }, 'job store: could not read the parent of a job');
    return null;
  }
  return { url: parent ? messageLink(parent) : null, command: parent?.command ?? null, output: child.parentOutput };
}

/** What a job's row says of where it came from. */
export type Lineage = Pick<JobRow, 'id' | 'parentId' | 'parentOutput'>;
