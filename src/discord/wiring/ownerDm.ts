// The owner's DMs as the way of last resort for one job card: told when the card can no longer be shown, and
// handed the results when the card that should carry them is lost for good (no permission, no route to it).
import type { Unreachable } from '../cardEditor.js';
import { renderCard } from '../cardRenderer.js';
import { DEFAULT_UPLOAD_LIMIT } from '../delivery.js';
import type { ResultDetour } from '../jobCard.js';
import type { BotContext } from './context.js';

/** Discord's attachment limit in DMs: no guild boost applies there. */
export const DM_UPLOAD_LIMIT = DEFAULT_UPLOAD_LIMIT;

export class OwnerDm {
  private lost: Unreachable | null = null;

  constructor(
    private readonly ctx: BotContext,
    private readonly jobId: string,
    private readonly ownerId: string,
    private readonly channelId: string | null,
  ) {}

  /** The card editor's `onUnreachable`. A final card with results is left to `detour`, which brings the files. */
  cardUnreachable(info: Unreachable): void {
    this.lost = info;
    this.ctx.logger.warn({ job: this.jobId, reason: info.reason, message: info.message }, 'job card unreachable; telling the owner by DM');
    if (info.view.state.kind === 'succeeded') return;
    this.send({
      content: `Your job's card${this.where()} could not be updated (${info.message}). Here is where it stands:`,
      embeds: renderCard({ ...info.view, mentionOwner: false }).embeds,
    }).catch((error: unknown) => this.ctx.logger.warn({ job: this.jobId, err: error }, 'could not DM the owner either'));
  }

  /**
   * The DMs, when the card was lost for good. A card that merely failed to update (Discord errors) is not: its
   * results stay pending and are retried where they belong.
   */
  detour(): ResultDetour | null {
    const lost = this.lost;
    if (lost === null || lost.reason === 'failed') return null;
    return {
      limitBytes: DM_UPLOAD_LIMIT,
      post: async ({ view, files, batch, of }) => {
        const content = view
          ? `Your job's card${this.where()} could not be updated (${lost.message}). Here are its results:`
          : `Results ${batch} of ${of} · job ${this.jobId}`;
        const embeds = view ? renderCard({ ...view, mentionOwner: false }).embeds : [];
        return this.send({ content, embeds, files });
      },
    };
  }

  private where(): string {
    return this.channelId ? ` in <#${this.channelId}>` : '';
  }

  private async send(message: Parameters<BotContext['client']['users']['send']>[1]): Promise<string> {
    return (await this.ctx.client.users.send(this.ownerId, message)).id;
  }
}
