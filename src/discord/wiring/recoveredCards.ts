// After a restart: the cards of jobs that ended without the bot (results not yet posted, or a job that could not
// be resumed) are brought to their final state on the message the store recorded.
import type { NodeOutput, OutputFile } from '../../comfy/types.js';
import type { JobRow } from '../../jobs/store-types.js';
import { deliveryKey, uploadLimit } from '../delivery.js';
import { deliverResults } from '../jobCard.js';
import { cardBase, cardEditor, channelTransport, postInChannel, resultDelivery } from './cardSession.js';
import { commandFor, type BotContext } from './context.js';
import { OwnerDm } from './ownerDm.js';
import { promptKeyOf } from './promptKey.js';

function baseOf(ctx: BotContext, row: JobRow) {
  const definition = commandFor(ctx, row.guildId, row.command);
  return cardBase(row.id, row.ownerId, row.command, definition ? promptKeyOf(definition) : null, row.params);
}

/** The outputs as ComfyUI's history lists them, to download them again from the backend the job ran on. */
function historyOutputs(row: JobRow): Record<string, NodeOutput> {
  const outputs: Record<string, NodeOutput> = {};
  for (const ref of row.outputs ?? []) {
    const node = (outputs[ref.node] ??= {});
    const list = (node[ref.kind] as unknown[] | undefined) ?? [];
    node[ref.kind] = [...list, { filename: ref.filename, subfolder: ref.subfolder, type: ref.type }];
  }
  return outputs;
}

/**
 * Downloads a succeeded job's outputs again and posts what is not posted yet on its card (or as further
 * messages), recording each message. Skips a job whose results are being posted right now.
 */
export async function deliverPending(ctx: BotContext, row: JobRow): Promise<void> {
  if (ctx.delivering.has(row.id)) return;
  ctx.delivering.add(row.id);
  try {
    // The row may be older than a delivery that ended meanwhile (a retry round lists its rows up front).
    const current = ctx.store.get(row.id);
    if (current?.delivery !== 'pending') return;
    await redeliver(ctx, current);
  } finally {
    ctx.delivering.delete(row.id);
  }
}

async function redeliver(ctx: BotContext, row: JobRow): Promise<void> {
  const log = ctx.logger.child({ job: row.id });
  if (row.channelId === null) {
    log.warn('undelivered job has no channel; its results cannot be posted');
    return;
  }
  const backend = ctx.backends.find((b) => b.name === row.backend);
  if (!backend) {
    log.warn({ backend: row.backend }, 'undelivered job ran on a backend that is no longer configured');
    return;
  }
  let files: OutputFile[];
  try {
    files = await backend.client.downloadOutputs(historyOutputs(row));
  } catch (error) {
    log.error({ err: error }, 'results of a finished job could not be downloaded again; left pending');
    return;
  }
  const channelId = row.channelId;
  const transport = channelTransport(ctx, row, channelId);
  const owner = new OwnerDm(ctx, row.id, row.ownerId, channelId);
  const elapsed = row.startedAt !== null && row.finishedAt !== null ? (row.finishedAt - row.startedAt) / 1000 : null;
  const result = await deliverResults(
    {
      editor: cardEditor(ctx, row.id, transport, channelId, owner),
      base: baseOf(ctx, row),
      ...resultDelivery(ctx, { id: row.id, command: row.command, guildId: row.guildId }, owner),
      limitBytes: uploadLimit(null),
      cardMessageId: () => transport.location.messageId,
      postBatch: (batch, n, of) => postInChannel(ctx, channelId, batch, `Results ${n} of ${of} · job ${row.id}`),
      posted: new Set(row.deliveries.flatMap((d) => d.files).map(deliveryKey)),
      upscaleCount: () => 0,
      logger: log,
    },
    files,
    elapsed,
  );
  if (!result.complete) log.warn('results still not (all) posted; kept pending');
}

/** A job that could not be resumed: its card says why. */
export async function showUnrecoverable(ctx: BotContext, row: JobRow, error: string): Promise<void> {
  if (row.channelId === null) return;
  const transport = channelTransport(ctx, row, row.channelId);
  const owner = new OwnerDm(ctx, row.id, row.ownerId, row.channelId);
  await cardEditor(ctx, row.id, transport, row.channelId, owner).finish({ ...baseOf(ctx, row), state: { kind: 'failed', message: error } });
}
