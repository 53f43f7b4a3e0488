// /show job:<id or link>: posts a finished job's result again, with its buttons, as the reply. Members may show
// their own jobs; moderators any job of their server. The files are downloaded again from ComfyUI.
import { MessageFlags, type ChatInputCommandInteraction } from 'discord.js';
import type { JobRow } from '../../jobs/store-types.js';
import { renderCard } from '../cardRenderer.js';
import { planDelivery, toCardFiles, uploadLimit } from '../delivery.js';
import { isModerator } from '../permissions.js';
import { accessOf } from '../wiring/access.js';
import { imageOutputCount } from '../jobCard.js';
import { cardBase, gridOriginals, spoilerResults } from '../wiring/cardSession.js';
import type { BotContext } from '../wiring/context.js';
import { planWithGrid } from './gridDelivery.js';
import { download, GONE } from './gridButtons.js';

const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MESSAGE_LINK = /^https:\/\/(?:(?:ptb|canary)\.)?discord(?:app)?\.com\/channels\/(?:\d{17,20}|@me)\/\d{17,20}\/(\d{17,20})\/?$/;

/** The job a `job:` value names: a job id, or a link to its card (or to one of its result messages). */
export function findJob(ctx: Pick<BotContext, 'store'>, value: string): JobRow | null {
  const text = value.trim();
  const link = MESSAGE_LINK.exec(text);
  if (link) return ctx.store.byMessage(link[1] as string);
  return JOB_ID.test(text) ? ctx.store.get(text) : null;
}

function mayShow(ctx: BotContext, interaction: ChatInputCommandInteraction, row: JobRow): boolean {
  if (row.ownerId === interaction.user.id) return true;
  if (interaction.guildId === null || row.guildId !== interaction.guildId) return false;
  const moderatorRoles = [...ctx.config.discord.moderatorRoles, ...ctx.store.guildSettings(interaction.guildId).moderatorRoles];
  return isModerator(accessOf(interaction), { moderatorRoles });
}

export async function handleShow(ctx: BotContext, interaction: ChatInputCommandInteraction): Promise<void> {
  const refuse = (content: string) => interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
  const row = findJob(ctx, interaction.options.getString('job', true));
  // A job someone may not see is answered like one that does not exist, so ids cannot be probed.
  if (!row || !mayShow(ctx, interaction, row)) {
    await refuse('No job of yours by that id or link (moderators: any job of this server).');
    return;
  }
  if (row.state !== 'succeeded') {
    await refuse(`That job ${row.state === 'failed' ? 'failed' : row.state === 'cancelled' ? 'was cancelled' : 'has not finished yet'}; there is nothing to show.`);
    return;
  }
  await interaction.deferReply();
  const files = await download(ctx, row, row.outputs ?? []);
  if (!files) {
    await interaction.editReply({ content: GONE });
    return;
  }
  const limitBytes = uploadLimit(interaction.attachmentSizeLimit);
  const plan = await planWithGrid(files, limitBytes, (outputs) => planDelivery(outputs, { command: row.command, jobId: row.id, limitBytes, spoiler: spoilerResults(ctx, row.guildId) }), ctx.logger, {
    originals: gridOriginals(ctx, row.guildId),
  });
  const payload = renderCard({
    ...cardBase(ctx, row),
    state: { kind: 'succeeded', summary: plan.summary, notes: plan.notes, imageName: plan.embedImage, outputCount: imageOutputCount(plan), ...(plan.grid && { grid: true }) },
  });
  await interaction.editReply({ ...payload, files: toCardFiles(plan.batches[0] ?? []) });
}
