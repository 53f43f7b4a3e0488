// Where a job came from, for its card: "Variation of [/imagine (image 2)](link to the parent's card)".
import type { JobRow } from '../../jobs/store-types.js';
import type { CardParent } from '../cardRenderer.js';
import type { BotContext } from '../wiring/context.js';

/** A message link Discord opens in the client (`@me` for direct messages). */
export function messageLink(row: Pick<JobRow, 'guildId' | 'channelId' | 'messageId'>): string | null {
  if (row.channelId === null || row.messageId === null) return null;
  return `https://discord.com/channels/${row.guildId ?? '@me'}/${row.channelId}/${row.messageId}`;
}

/** The parent of job `jobId` as its card shows it; null for a job nobody made from another. */
export function parentOf(ctx: Pick<BotContext, 'store' | 'logger'>, jobId: string): CardParent | null {
  let child: JobRow | null;
  let parent: JobRow | null;
  try {
    child = ctx.store.get(jobId);
    parent = child?.parentId ? ctx.store.get(child.parentId) : null;
  } catch (error) {
    // The card is still worth showing without its lineage.
    ctx.logger.error({ err: error, job: jobId }, 'job store: could not read the parent of a job');
    return null;
  }
  if (!child?.parentId) return null;
  return { url: parent ? messageLink(parent) : null, command: parent?.command ?? null, output: child.parentOutput };
}
