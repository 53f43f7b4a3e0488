// After a restart: the cards of jobs that ended without the bot (results not yet posted, or a job that could not
// be resumed) are brought to their final state on the message the store recorded.
import { ComfyHttpError } from '../../comfy/errors.js';
import type { NodeOutput, OutputFile } from '../../comfy/types.js';
import { failUndeliverable } from '../../jobs/deliveryLimit.js';
import type { JobRow, OutputRef } from '../../jobs/store-types.js';
import { deliveryKey, uploadLimit } from '../delivery.js';
import { deliverResults } from '../jobCard.js';
import { cardBase, cardEditor, channelTransport, postInChannel, resultDelivery } from './cardSession.js';
import type { BotContext } from './context.js';
import type { RetryOutcome } from './deliveryRetry.js';
import { OwnerDm } from './ownerDm.js';

const baseOf = cardBase;

/** The outputs (default: all of them) as ComfyUI's history lists them, to download them again from the backend. */
export function historyOutputs(row: JobRow, refs: readonly OutputRef[] = row.outputs ?? []): Record<string, NodeOutput> {
  const outputs: Record<string, NodeOutput> = {};
  for (const ref of refs) {
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
export async function deliverPending(ctx: BotContext, row: JobRow): Promise<RetryOutcome> {
  if (ctx.delivering.has(row.id)) return { kind: 'retry', reason: 'its delivery was under way' };
  ctx.delivering.add(row.id);
  try {
    // The row may be older than a delivery that ended meanwhile (a retry round lists its rows up front).
    const current = ctx.store.get(row.id);
    if (current?.delivery !== 'pending') return { kind: 'done' };
    return await redeliver(ctx, current);
  } finally {
    ctx.delivering.delete(row.id);
  }
}

async function redeliver(ctx: BotContext, row: JobRow): Promise<RetryOutcome> {
  const log = ctx.logger.child({ job: row.id });
  if (row.channelId === null) {
    log.warn('undelivered job has no channel; its results cannot be posted');
    return { kind: 'lost', reason: 'the job has no channel to post them in' };
  }
  const backend = ctx.backends.find((b) => b.name === row.backend);
  if (!backend) {
    log.warn({ backend: row.backend }, 'undelivered job ran on a backend that is no longer configured');
    return { kind: 'lost', reason: `the backend it ran on (${row.backend ?? 'unknown'}) is no longer configured` };
  }
  if (!backend.client) {
    // A v2 endpoint's output URLs are not kept, and without a classic URL there is no /view to ask.
    log.warn({ backend: row.backend }, 'undelivered job ran on a v2 backend without a classic URL; its results cannot be downloaded again');
    return { kind: 'lost', reason: `the backend it ran on (${backend.name}) speaks Comfy API v2 without a classic URL, so its results cannot be fetched again` };
  }
  let files: OutputFile[];
  try {
    files = await backend.client.downloadOutputs(historyOutputs(row));
  } catch (error) {
    log.error({ err: error }, 'results of a finished job could not be downloaded again; left pending');
    // ComfyUI answers 404 for a file it no longer has (temp outputs are gone after it restarts).
    if (error instanceof ComfyHttpError && error.status === 404) {
      return { kind: 'lost', reason: `ComfyUI (${backend.name}) no longer has the output files` };
    }
    return { kind: 'retry', reason: `the results could not be fetched from ${backend.name}` };
  }
  const channelId = row.channelId;
  const transport = channelTransport(ctx, row, channelId);
  const owner = new OwnerDm(ctx, row.id, row.ownerId, channelId);
  const elapsed = row.startedAt !== null && row.finishedAt !== null ? (row.finishedAt - row.startedAt) / 1000 : null;
  const result = await deliverResults(
    {
      editor: cardEditor(ctx, row.id, transport, channelId, owner),
      base: baseOf(ctx, row),
      ...resultDelivery(ctx, { id: row.id, command: row.command, guildId: row.guildId, uploadLimit: row.uploadLimit }, owner),
      gpuMs: row.gpuMs,
      // The limit the first attempt planned with: the same files in the same messages, none re-encoded anew.
      limitBytes: uploadLimit(row.uploadLimit),
      cardMessageId: () => transport.location.messageId,
      postBatch: (batch, n, of) => postInChannel(ctx, channelId, batch, `Results ${n} of ${of} · job ${row.id}`),
      posted: new Set(row.deliveries.flatMap((d) => d.files).map(deliveryKey)),
      logger: log,
    },
    files,
    elapsed,
  );
  if (result.complete) return { kind: 'done' };
  log.warn('results still not (all) posted; kept pending');
  return { kind: 'retry', reason: 'Discord did not take them' };
}

/**
 * Results that will not be delivered: the job fails with the reason (so /queue stops listing it and retention
 * prunes it), and its card, or the owner's DMs, say why.
 */
export async function abandonDelivery(ctx: BotContext, row: JobRow, reason: string): Promise<void> {
  const error = failUndeliverable(ctx.store, row, reason);
  if (error !== null) await showUnrecoverable(ctx, row, error);
}

/** A job that could not be resumed: its card says why. */
export async function showUnrecoverable(ctx: BotContext, row: JobRow, error: string): Promise<void> {
  if (row.channelId === null) return;
  const transport = channelTransport(ctx, row, row.channelId);
  const owner = new OwnerDm(ctx, row.id, row.ownerId, row.channelId);
  await cardEditor(ctx, row.id, transport, row.channelId, owner).finish({ ...baseOf(ctx, row), state: { kind: 'failed', message: error } });
}
