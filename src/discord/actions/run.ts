// A follow-up action pressed on a finished card: the action is looked up by name in the parent's command file
// as it is now (so buttons work on any past job, after any number of restarts), its values are taken from the
// parent job, edited in a modal first for `remix` actions, and submitted through the one submission path, under
// the member who pressed it: access, blocked words, option ranges and limits apply as for the slash command.
import { MessageFlags, type ButtonInteraction, type ModalSubmitInteraction } from 'discord.js';
import type { JobRow } from '../../jobs/store-types.js';
import { actionValues } from '../../templates/actions.js';
import type { ActionDefinition, CommandDefinition, OptionDefinition } from '../../templates/definition.js';
import { submitJob } from '../handlers/submit.js';
import type { ImageSource } from '../imageInputs.js';
import { commandFor, type BotContext } from '../wiring/context.js';
import { parentOutputSource } from './parentOutput.js';
import { renderRemixModal } from './remixModal.js';

type ActionInteraction = ButtonInteraction | ModalSubmitInteraction;

interface Pressed {
  row: JobRow;
  parent: CommandDefinition;
  action: ActionDefinition;
  target: CommandDefinition;
  /** The output a per-output action works on (1-based). */
  index: number | null;
}

function ephemeral(interaction: ActionInteraction, content: string): Promise<unknown> {
  const options = { content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } } as const;
  return interaction.deferred || interaction.replied ? interaction.followUp(options) : interaction.reply(options);
}

/** The action a button names, or the reason it no longer does anything (told to the member). */
function lookUp(ctx: BotContext, row: JobRow, name: string, index: number | undefined): Pressed | string {
  if (row.state !== 'succeeded') return 'That job has no results to work from.';
  const parent = commandFor(ctx, row.guildId, row.command);
  const action = parent?.actions.find((candidate) => candidate.name === name);
  if (!parent || !action) return `This button no longer does anything: /${row.command} has no "${name}" action any more.`;
  const target = commandFor(ctx, row.guildId, action.command);
  if (!target) return `/${action.command} is no longer available.`;
  if (action.per !== 'job' && index === undefined) return 'This button does not say which image it is for; use the numbered buttons.';
  return { row, parent, action, target, index: action.per === 'job' ? null : (index ?? null) };
}

/** A button of a declared action: a remix action opens its modal, any other runs at once. */
export async function pressAction(ctx: BotContext, interaction: ButtonInteraction, row: JobRow, name: string, index: number | undefined): Promise<void> {
  const pressed = lookUp(ctx, row, name, index);
  if (typeof pressed === 'string') {
    await ephemeral(interaction, pressed);
    return;
  }
  if (pressed.action.remix.length > 0) {
    await interaction.showModal(remixModal(pressed));
    return;
  }
  await interaction.deferReply();
  await submitAction(ctx, interaction, pressed, {}, interaction.message.attachments);
}

/** The remix modal of an action, submitted: its fields override what the action takes from the parent. */
export async function submitRemix(ctx: BotContext, interaction: ModalSubmitInteraction, row: JobRow, name: string, index: number | undefined): Promise<void> {
  const pressed = lookUp(ctx, row, name, index);
  if (typeof pressed === 'string') {
    await ephemeral(interaction, pressed);
    return;
  }
  const edits: Record<string, unknown> = {};
  for (const option of pressed.action.remix) {
    const value = fieldValue(interaction, option);
    // An emptied optional field means "not given": the option's default applies, as in the slash command.
    edits[option] = value === null || value.trim() === '' ? undefined : value;
  }
  await interaction.deferReply();
  await submitAction(ctx, interaction, pressed, edits, interaction.message?.attachments ?? null);
}

function fieldValue(interaction: ModalSubmitInteraction, id: string): string | null {
  try {
    return interaction.fields.getTextInputValue(id);
  } catch {
    // A modal rendered from an older version of the action lacks the field.
    return null;
  }
}

function remixModal({ row, parent, action, target, index }: Pressed) {
  const { values } = actionValues(action, target, { command: parent, params: row.params, images: [] });
  const fields = action.remix
    .map((name) => target.options.find((option) => option.name === name))
    .filter((option): option is Exclude<OptionDefinition, { type: 'image' }> => option !== undefined && option.type !== 'image')
    .map((option) => ({ option, value: values[option.name] ?? row.params[option.name] }));
  return renderRemixModal({ jobId: row.id, action, command: target.name, fields, ...(index !== null && { index }) });
}

async function submitAction(
  ctx: BotContext,
  interaction: ActionInteraction,
  { row, parent, action, target, index }: Pressed,
  edits: Record<string, unknown>,
  cardAttachments: ButtonInteraction['message']['attachments'] | null,
): Promise<void> {
  const computed = actionValues(action, target, { command: parent, params: row.params, images: row.images.map((image) => image.option) });
  const values: Record<string, unknown> = { ...computed.values, ...edits };
  // Image sources only: the parent's saved inputs are reused as they are, and its output is fetched once the
  // submission has passed the cheap checks.
  const images: Record<string, ImageSource> = {};
  const stored = new Map(row.images.map((image) => [image.option, image]));
  for (const [option, source] of Object.entries(computed.parentImages)) {
    const image = stored.get(source);
    if (!image) continue;
    const { filename, mime, sha256, size, path } = image;
    images[option] = { kind: 'saved', filename, mime, saved: { sha256, size, path } };
    values[option] = filename;
  }
  if (computed.outputOption !== null && index !== null) {
    const output = parentOutputSource(ctx, row, index, computed.outputOption, cardAttachments);
    images[computed.outputOption] = output;
    values[computed.outputOption] = output.name;
  }
  await submitJob(ctx, interaction, { definition: target, values, images, parent: { jobId: row.id, output: index, action: action.name } });
}
