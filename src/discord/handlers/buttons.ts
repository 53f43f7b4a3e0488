// The buttons on job cards and the Edit modal. Each custom_id names its job, which is looked up in the store (or
// the scheduler, for live jobs), so buttons keep working after a restart.
import { MessageFlags, type ButtonInteraction, type ModalSubmitInteraction } from 'discord.js';
import type { JobRow } from '../../jobs/store-types.js';
import { CancelError } from '../../scheduler/errors.js';
import type { CommandDefinition } from '../../templates/definition.js';
import { decodeCustomId, type JobComponentId } from '../customIds.js';
import { PROMPT_FIELD_ID, renderEditModal } from '../editModal.js';
import { mayControlJob, moderatesJob } from '../permissions.js';
import { accessOf } from '../wiring/access.js';
import { commandFor, type BotContext } from '../wiring/context.js';
import { promptKeyOf, randomOptionsOf } from '../wiring/promptKey.js';
import { ImageInputError, imageFromUrl } from './command.js';
import { refuse, submitJob } from './submit.js';

const NOT_YOUR_JOB = "This is not your job: only its owner and this server's moderators can do that.";

function ephemeral(interaction: ButtonInteraction | ModalSubmitInteraction, content: string): Promise<unknown> {
  const options = { content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } } as const;
  return interaction.deferred || interaction.replied ? interaction.followUp(options) : interaction.reply(options);
}

function moderators(ctx: BotContext, guildId: string | null): { moderatorRoles: string[] } {
  const extra = guildId ? ctx.store.guildSettings(guildId).moderatorRoles : [];
  return { moderatorRoles: [...ctx.config.discord.moderatorRoles, ...extra] };
}

function mayControl(ctx: BotContext, interaction: ButtonInteraction, row: JobRow): boolean {
  return mayControlJob(accessOf(interaction), interaction.user.id, interaction.guildId, row, moderators(ctx, interaction.guildId));
}

export async function handleButton(ctx: BotContext, interaction: ButtonInteraction): Promise<void> {
  const id = decodeCustomId(interaction.customId);
  if (!id || id.kind !== 'button') {
    await ephemeral(interaction, 'This button is not one of mine any more.');
    return;
  }
  const row = ctx.store.get(id.jobId);
  if (!row) {
    await ephemeral(interaction, 'That job is no longer known (it may have been pruned).');
    return;
  }
  switch (id.action) {
    case 'cancel':
      return cancel(ctx, interaction, row);
    case 'delete':
      return remove(ctx, interaction, row);
    case 'reroll':
      return rerun(ctx, interaction, row, (definition) => withoutRandom(definition, row.params));
    case 'edit':
      return showEditModal(ctx, interaction, row);
    case 'upscale':
      return upscale(ctx, interaction, row, id);
  }
}

async function cancel(ctx: BotContext, interaction: ButtonInteraction, row: JobRow): Promise<void> {
  if (!mayControl(ctx, interaction, row)) {
    await ephemeral(interaction, NOT_YOUR_JOB);
    return;
  }
  // The card itself shows the cancellation; the press needs no message of its own.
  await interaction.deferUpdate();
  ctx.cancelledBy.set(row.id, interaction.user.id);
  try {
    await ctx.scheduler.cancel(row.id, { userId: interaction.user.id, isModerator: moderatesJob(accessOf(interaction), interaction.guildId, row, moderators(ctx, interaction.guildId)) });
  } catch (error) {
    ctx.cancelledBy.delete(row.id);
    if (!(error instanceof CancelError)) throw error;
    await ephemeral(interaction, error.refusal === 'not-found' ? 'This job has already finished.' : `${error.message}.`);
  }
}

async function remove(ctx: BotContext, interaction: ButtonInteraction, row: JobRow): Promise<void> {
  if (!mayControl(ctx, interaction, row)) {
    await ephemeral(interaction, NOT_YOUR_JOB);
    return;
  }
  await interaction.deferUpdate();
  await interaction.message.delete();
}

function definitionOf(ctx: BotContext, command: string, guildId: string | null): CommandDefinition | undefined {
  return commandFor(ctx, guildId, command);
}

function withoutRandom(definition: CommandDefinition, params: Record<string, unknown>): Record<string, unknown> {
  const random = new Set(randomOptionsOf(definition));
  return Object.fromEntries(Object.entries(params).filter(([name]) => !random.has(name)));
}

/** Runs the row's command again with values made from its params; the reply to this press becomes the new card. */
async function rerun(
  ctx: BotContext,
  interaction: ButtonInteraction | ModalSubmitInteraction,
  row: JobRow,
  values: (definition: CommandDefinition) => Record<string, unknown>,
): Promise<void> {
  const definition = definitionOf(ctx, row.command, row.guildId);
  if (!definition) {
    await ephemeral(interaction, `/${row.command} is no longer available.`);
    return;
  }
  await interaction.deferReply();
  const images = Object.fromEntries(ctx.store.loadImages(row.id).map((image) => [image.option, { filename: image.filename, bytes: image.bytes }]));
  const raw = values(definition);
  for (const option of Object.keys(images)) raw[option] = images[option]!.filename;
  await submitJob(ctx, interaction, { definition, values: raw, images, parentId: row.id });
}

async function showEditModal(ctx: BotContext, interaction: ButtonInteraction, row: JobRow): Promise<void> {
  const definition = definitionOf(ctx, row.command, row.guildId);
  const key = definition ? promptKeyOf(definition) : null;
  if (!definition || key === null) {
    await ephemeral(interaction, `/${row.command} has no prompt to edit.`);
    return;
  }
  const current = row.params[key];
  const option = definition.options.find((o) => o.name === key);
  await interaction.showModal(
    renderEditModal({
      jobId: row.id,
      command: row.command,
      prompt: typeof current === 'string' ? current : '',
      maxLength: option?.type === 'string' ? option.maxLength : 4000,
    }),
  );
}

/** The Edit modal: same options and seed, the new prompt. */
export async function handleModal(ctx: BotContext, interaction: ModalSubmitInteraction): Promise<void> {
  const id = decodeCustomId(interaction.customId);
  const row = id?.kind === 'modal' ? ctx.store.get(id.jobId) : null;
  if (!row) {
    await ephemeral(interaction, 'That job is no longer known.');
    return;
  }
  const prompt = interaction.fields.getTextInputValue(PROMPT_FIELD_ID);
  await rerun(ctx, interaction, row, (definition) => {
    const key = promptKeyOf(definition);
    return key === null ? { ...row.params } : { ...row.params, [key]: prompt };
  });
}

/** Runs the `upscale` command on the n-th image attached to the card. */
async function upscale(ctx: BotContext, interaction: ButtonInteraction, row: JobRow, id: Extract<JobComponentId, { action: 'upscale' }>): Promise<void> {
  const definition = definitionOf(ctx, 'upscale', interaction.guildId);
  const imageOption = definition?.options.find((option) => option.type === 'image');
  if (!definition || !imageOption) {
    await ephemeral(interaction, 'There is no /upscale command any more.');
    return;
  }
  const images = [...interaction.message.attachments.values()].filter((a) => /^image\/(png|jpeg|webp)/.test(a.contentType ?? ''));
  const source = images[id.index - 1];
  if (!source) {
    await ephemeral(interaction, `This card has no image ${id.index}.`);
    return;
  }
  await interaction.deferReply();
  try {
    const image = await imageFromUrl(imageOption.name, source.url, source.size, source.name);
    await submitJob(ctx, interaction, { definition, values: { [imageOption.name]: image.filename }, images: { [imageOption.name]: image }, parentId: row.id });
  } catch (error) {
    if (!(error instanceof ImageInputError)) throw error;
    await refuse(interaction, definition.name, error.message);
  }
}
