// The buttons of a grid card: U<n> posts image n of the batch on a message of its own, with the job's actions
// for that image; Files sends the member the original files. Both download from the ComfyUI server the job ran
// on, so they work on any past job for as long as ComfyUI keeps its outputs.
import { MessageFlags, type ButtonInteraction } from 'discord.js';
import type { OutputFile } from '../../comfy/types.js';
import type { JobRow, OutputRef } from '../../jobs/store-types.js';
import { renderCard } from '../cardRenderer.js';
import { planDelivery, toCardFiles, uploadLimit } from '../delivery.js';
import { cardBase, spoilerResults } from '../wiring/cardSession.js';
import type { BotContext } from '../wiring/context.js';
import { historyOutputs } from '../wiring/recoveredCards.js';
import { imageOutputs } from './parentOutput.js';

export const GONE = 'The files of that job are no longer on ComfyUI.';

/** The outputs `refs` of a job, downloaded again from the ComfyUI server it ran on; null when they are gone. */
export async function download(ctx: BotContext, row: JobRow, refs: readonly OutputRef[]): Promise<OutputFile[] | null> {
  const backend = ctx.backends.find((candidate) => candidate.name === row.backend);
  // A v2 endpoint without a classic URL keeps no /view to ask again.
  if (!backend?.client || refs.length === 0) return null;
  try {
    return await backend.client.downloadOutputs(historyOutputs(row, refs));
  } catch (error) {
    ctx.logger.info({ err: error, job: row.id }, 'outputs no longer on ComfyUI');
    return null;
  }
}

/** U<n>: image n as a card of its own (its per-output buttons act on image n), posted as the reply. */
export async function pickOutput(ctx: BotContext, interaction: ButtonInteraction, row: JobRow, n: number): Promise<void> {
  const images = imageOutputs(row);
  const ref = images[n - 1];
  if (row.state !== 'succeeded' || !ref) {
    await interaction.reply({ content: `That job has no image ${n}.`, flags: MessageFlags.Ephemeral });
    return;
  }
  await interaction.deferReply();
  const files = await download(ctx, row, [ref]);
  if (!files) {
    await interaction.editReply({ content: GONE });
    return;
  }
  const limitBytes = uploadLimit(interaction.attachmentSizeLimit);
  const plan = await planDelivery(files, { command: row.command, jobId: row.id, limitBytes, spoiler: spoilerResults(ctx, row.guildId) });
  const attached = plan.batches[0] ?? [];
  const payload = renderCard({
    ...cardBase(ctx, row),
    state: { kind: 'succeeded', summary: `Image ${n} of ${images.length}`, notes: plan.notes, imageName: plan.embedImage, outputCount: images.length, onlyOutput: n },
  });
  await interaction.editReply({ ...payload, files: toCardFiles(attached) });
}

/** Files: the job's original outputs, fitted to the upload limit, for the member who asked (ephemeral). */
export async function sendOriginals(ctx: BotContext, interaction: ButtonInteraction, row: JobRow): Promise<void> {
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const files = row.state === 'succeeded' ? await download(ctx, row, row.outputs ?? []) : null;
  if (!files) {
    await interaction.editReply({ content: GONE });
    return;
  }
  const limitBytes = uploadLimit(interaction.attachmentSizeLimit);
  const plan = await planDelivery(files, { command: row.command, jobId: row.id, limitBytes, spoiler: spoilerResults(ctx, row.guildId) });
  const [first = [], ...rest] = plan.batches;
  const notes = plan.notes.length > 0 ? `\n${plan.notes.map((note) => `• ${note}`).join('\n')}` : '';
  await interaction.editReply({ content: `The original files of job ${row.id}${notes}`, files: toCardFiles(first) });
  for (const batch of rest) await interaction.followUp({ flags: MessageFlags.Ephemeral, files: toCardFiles(batch) });
}
