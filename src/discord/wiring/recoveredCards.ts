// After a restart: the cards of jobs that ended without the bot (results not yet posted, or a job that could not
// be resumed) are brought to their final state on the message the store recorded.
import type { NodeOutput, OutputFile } from '../../comfy/types.js';
import type { JobRow } from '../../jobs/store-types.js';
import { planDelivery, uploadLimit } from '../delivery.js';
import { deliverResults } from '../jobCard.js';
import { cardBase, cardEditor, channelTransport, sendableChannel } from './cardSession.js';
import type { BotContext } from './context.js';
import { promptKeyOf } from './promptKey.js';

function ownerOf(row: JobRow) {
  return { id: row.id, owner: { userId: row.ownerId, guildId: row.guildId, roles: [] } };
}

function baseOf(ctx: BotContext, row: JobRow) {
  const definition = ctx.registry.commands.get(row.command);
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

/** Downloads a succeeded job's outputs again and posts them on its card; records the delivery. */
export async function deliverPending(ctx: BotContext, row: JobRow): Promise<void> {
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
  const elapsed = row.startedAt !== null && row.finishedAt !== null ? (row.finishedAt - row.startedAt) / 1000 : null;
  const { outcome, delivered } = await deliverResults(
    {
      editor: cardEditor(ctx, ownerOf(row), transport, channelId),
      base: baseOf(ctx, row),
      planDelivery: (outputs) => planDelivery(outputs, { command: row.command, jobId: row.id, limitBytes: uploadLimit(null) }),
      postBatch: async (batch, n, of) => {
        const channel = await sendableChannel(ctx, channelId);
        if (!channel) throw new Error(`channel ${channelId} is not available for the further results`);
        await channel.send({ content: `Results ${n} of ${of} · job ${row.id}`, files: batch });
      },
      upscaleCount: () => 0,
      logger: log,
    },
    files,
    elapsed,
  );
  if (!outcome.delivered) return;
  try {
    ctx.store.recordDelivery(row.id, { messageId: transport.location.messageId ?? 'unknown', files: delivered });
  } catch (error) {
    log.error({ err: error }, 'job store: could not record the delivery');
  }
}

/** A job that could not be resumed: its card says why. */
export async function showUnrecoverable(ctx: BotContext, row: JobRow, error: string): Promise<void> {
  if (row.channelId === null) return;
  const transport = channelTransport(ctx, row, row.channelId);
  await cardEditor(ctx, ownerOf(row), transport, row.channelId).finish({ ...baseOf(ctx, row), state: { kind: 'failed', message: error } });
}
