// `/comfy command add | list | remove | export` and the components of the add step. A server's admins manage
// their server's commands only; the command is registered in that server alone and stored with its template in
// the job store. Cheap checks come first (name, clashes, declared size, file type) and the download and the
// conversion only after.
import { AttachmentBuilder, MessageFlags, type ChatInputCommandInteraction, type ModalSubmitInteraction, type StringSelectMenuInteraction, type ButtonInteraction } from 'discord.js';
import { ImportError, convertWorkflow, type Catalogue, type Conversion } from '../../templates/import/convert.js';
import { commandFileText, isCommandName, MAX_OPTIONS, templateText } from '../../templates/import/command-file.js';
import { JsonSyntaxError, parseExactJson } from '../../templates/import/exact-json.js';
import { proposeCommand } from '../../templates/import/propose.js';
import type { CommandDefinition } from '../../templates/definition.js';
import type { Problem } from '../../templates/errors.js';
import { compileGuildCommand } from '../../templates/guild-commands.js';
import { checkAgainstServer } from '../../templates/live-check.js';
import type { ServerInfo } from '../../templates/server-info.js';
import { commandInputFrom } from '../commandInput.js';
import { BUILTIN_COMMAND_NAMES, commandPayload, CommandPayloadError } from '../commandPayloads.js';
import type { BackendHandle, BotContext } from '../wiring/context.js';
import { AttachmentDownloadError, downloadAttachment } from '../attachmentDownload.js';
import { applyLimits, decodeDraftCustomId, DESCRIPTION_FIELD, keptOptions, LIMITS_FIELD, renderDraft, renderDraftModal, setDescription, type Draft } from './draft.js';
import { syncGuildCommands } from './registration.js';

const EPHEMERAL = { flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } } as const;
/** A saved workflow is a few hundred KiB at most; anything larger is refused before it is downloaded. */
export const MAX_WORKFLOW_BYTES = 2 * 1024 * 1024;
/** Discord allows 100 commands per server. */
const MAX_SERVER_COMMANDS = 100;
const RESERVED = new Set<string>([...BUILTIN_COMMAND_NAMES, 'settings']);

export async function handleServerCommand(ctx: BotContext, interaction: ChatInputCommandInteraction): Promise<void> {
  const guildId = interaction.guildId;
  if (guildId === null) {
    await interaction.reply({ ...EPHEMERAL, content: "Server commands belong to a server; use /comfy command in the server's channels." });
    return;
  }
  const sub = interaction.options.getSubcommand(true);
  if (sub === 'list') return list(ctx, interaction, guildId);
  const name = interaction.options.getString('name', true).trim();
  if (sub === 'add') return add(ctx, interaction, guildId, name);
  const stored = ctx.store.guildCommands(guildId).find((row) => row.name === name);
  if (!stored) {
    await interaction.reply({ ...EPHEMERAL, content: `This server has no command /${name} of its own (/comfy command list shows them).` });
    return;
  }
  if (sub === 'export') {
    await interaction.reply({
      ...EPHEMERAL,
      content: `/${name}: the command file and its template (the format of commands/README.md; an operator can put them in commands/ and templates/).`,
      files: [new AttachmentBuilder(Buffer.from(stored.commandFile), { name: `${name}.yaml` }), new AttachmentBuilder(Buffer.from(stored.template), { name: `${name}.json` })],
    });
    return;
  }
  ctx.store.deleteGuildCommand(guildId, name);
  ctx.guildCommands.remove(guildId, name);
  ctx.logger.info({ guild: guildId, user: interaction.user.id, command: name }, 'server command removed');
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  await syncGuildCommands(ctx, guildId);
  await interaction.editReply({ content: `Removed /${name} from this server.` });
}

async function list(ctx: BotContext, interaction: ChatInputCommandInteraction, guildId: string): Promise<void> {
  const rows = ctx.store.guildCommands(guildId);
  const lines = rows.map((row) => {
    const definition = ctx.guildCommands.get(guildId, row.name);
    const state = ctx.registry.commands.has(row.name)
      ? ` ⚠️ hidden: the bot's global /${row.name} wins`
      : definition
        ? ''
        : ' ⚠️ broken, not registered (see the bot log)';
    const what = definition ? `${definition.description} (${definition.options.length} option${definition.options.length === 1 ? '' : 's'})` : '';
    return `**/${row.name}** ${what}, added by <@${row.createdBy}> <t:${Math.floor(row.createdAt / 1000)}:d>${state}`;
  });
  const content = lines.length === 0 ? 'This server has no commands of its own yet; add one with /comfy command add.' : `This server's own commands:\n${lines.join('\n')}`;
  await interaction.reply({ ...EPHEMERAL, content: content.slice(0, 2000) });
}

/** Why a name cannot be this server's new command, or null when it can. */
function nameProblem(ctx: BotContext, guildId: string, name: string): string | null {
  if (!isCommandName(name)) return `"${name}" is not a name Discord accepts: 1-32 lower-case letters, digits, "-" or "_".`;
  if (RESERVED.has(name)) return `/${name} is one of the bot's built-in commands; pick another name.`;
  if (ctx.registry.commands.has(name)) return `/${name} is one of the bot's global commands; a server command cannot take its name. Pick another name.`;
  const own = ctx.store.guildCommands(guildId);
  if (own.some((row) => row.name === name)) return `This server already has /${name}; remove it first (/comfy command remove) or pick another name.`;
  if (own.length >= MAX_SERVER_COMMANDS) return `This server already has ${own.length} commands of its own, the most Discord allows; remove one first.`;
  return null;
}

async function add(ctx: BotContext, interaction: ChatInputCommandInteraction, guildId: string, name: string): Promise<void> {
  const refuse = (content: string) => interaction.reply({ ...EPHEMERAL, content: `Not added: ${content}` });
  const problem = nameProblem(ctx, guildId, name);
  if (problem) return void (await refuse(problem));
  const file = interaction.options.getAttachment('workflow', true);
  if (file.size > MAX_WORKFLOW_BYTES) return void (await refuse(`${file.name} is ${Math.round(file.size / 1024)} KiB; a workflow file may be at most ${MAX_WORKFLOW_BYTES / 1024} KiB.`));
  const jsonType = file.contentType === null || /json|text\/plain|octet-stream/i.test(file.contentType);
  if (!/\.json$/i.test(file.name) || !jsonType) return void (await refuse(`${file.name} is not a .json file; attach the workflow as ComfyUI saves it (Save or Export (API)).`));

  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const fail = (content: string) => interaction.editReply({ content: `Not added: ${content}` });
  let parsed: unknown;
  try {
    const bytes = await downloadAttachment(file.url, file.size, { maxBytes: MAX_WORKFLOW_BYTES, timeoutMs: 30_000, origins: ctx.imageInputs.origins });
    parsed = parseExactJson(bytes.toString('utf8').replace(/^\uFEFF/, ''));
  } catch (error) {
    if (error instanceof AttachmentDownloadError) return void (await fail(`${file.name}: ${error.message}.`));
    if (error instanceof JsonSyntaxError) return void (await fail(`${file.name} is not JSON (${error.message}).`));
    throw error;
  }
  const converted = await convertOnBackends(ctx, parsed);
  if (!converted.ok) return void (await fail(converted.message));
  const { conversion, catalogue, backend } = converted;
  const options = proposeCommand(conversion.workflow, catalogue);
  if (options.length > MAX_OPTIONS) {
    return void (await fail(`the workflow gives ${options.length} options and Discord allows ${MAX_OPTIONS} per command; remove some inputs from the workflow, or ask an operator to write the command file by hand.`));
  }
  const server: ServerInfo = { objectInfo: async (nodeClass) => catalogue[nodeClass], models: (folder) => backend.client.http.models(folder) };
  const draft = ctx.drafts.create({ guildId, userId: interaction.user.id, name, source: file.name, workflow: conversion.workflow, options, notes: conversion.notes, server }, Date.now());
  await interaction.editReply(renderDraft(draft));
}

/** A backend with a classic ComfyUI URL: the one kind whose /object_info and model lists can be read. */
type ClassicHandle = BackendHandle & { client: NonNullable<BackendHandle['client']> };

type Converted = { ok: true; conversion: Conversion; catalogue: Catalogue; backend: ClassicHandle } | { ok: false; message: string };

/** Converts against the first healthy backend that has every node; otherwise names what is missing. */
async function convertOnBackends(ctx: BotContext, parsed: unknown): Promise<Converted> {
  let best: Conversion | undefined;
  let reached = 0;
  for (const backend of ctx.backends.filter((b): b is ClassicHandle => b.healthy && b.client !== undefined)) {
    let catalogue: Catalogue;
    try {
      catalogue = await backend.client.http.objectInfo();
    } catch (error) {
      ctx.logger.warn({ err: error, backend: backend.name }, 'could not read /object_info for a server command');
      continue;
    }
    reached++;
    let conversion: Conversion;
    try {
      conversion = convertWorkflow(parsed, catalogue);
    } catch (error) {
      if (error instanceof ImportError) return { ok: false, message: `${/^not /.test(error.message) ? 'the file is ' : 'the file: '}${error.message}.` };
      throw error;
    }
    if (conversion.problems.length === 0) return { ok: true, conversion, catalogue, backend };
    if (!best || conversion.problems.length < best.problems.length) best = conversion;
  }
  if (reached === 0) return { ok: false, message: 'no ComfyUI backend is reachable right now to read its nodes; try again later.' };
  const problems = (best as Conversion).problems;
  const where = reached > 1 ? ' on any backend' : '';
  const shown = problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : '');
  return { ok: false, message: `the workflow cannot run${where}: ${shown}.`.slice(0, 1900) };
}

/** The select menu, the buttons and the modal of an add step; returns false when the custom_id is not ours. */
export async function handleDraftComponent(ctx: BotContext, interaction: StringSelectMenuInteraction | ButtonInteraction | ModalSubmitInteraction): Promise<boolean> {
  const id = decodeDraftCustomId(interaction.customId);
  if (!id) return false;
  const draft = ctx.drafts.get(id.draftId, interaction.user.id, Date.now());
  if (!draft) {
    await interaction.reply({ ...EPHEMERAL, content: 'This proposal has expired or is not yours; run /comfy command add again.' });
    return true;
  }
  if (id.action === 'edit' && interaction.isButton()) {
    await interaction.showModal(renderDraftModal(draft));
    return true;
  }
  if (id.action === 'cancel') {
    ctx.drafts.delete(draft.id);
    await update(interaction, { content: `/${draft.name} was not added.`, embeds: [], components: [] });
    return true;
  }
  if (id.action === 'keep' && interaction.isStringSelectMenu()) {
    draft.kept = new Set(interaction.values.filter((value) => draft.options.some((entry) => entry.option.name === value)));
    await update(interaction, renderDraft(draft));
    return true;
  }
  if (id.action === 'modal' && interaction.isModalSubmit()) {
    const problem = setDescription(draft, interaction.fields.getTextInputValue(DESCRIPTION_FIELD)) ?? applyLimits(draft, interaction.fields.getTextInputValue(LIMITS_FIELD));
    if (problem) {
      await interaction.reply({ ...EPHEMERAL, content: `Not changed: ${problem}.` });
      return true;
    }
    await update(interaction, renderDraft(draft));
    return true;
  }
  if (id.action === 'save') {
    await save(ctx, interaction, draft);
    return true;
  }
  return false;
}

async function update(interaction: StringSelectMenuInteraction | ButtonInteraction | ModalSubmitInteraction, body: Parameters<ButtonInteraction['update']>[0] & object): Promise<void> {
  if (interaction.isModalSubmit()) {
    if (interaction.isFromMessage()) await interaction.update(body);
    else await interaction.reply({ ...EPHEMERAL, ...(body as object) });
    return;
  }
  await interaction.update(body);
}

async function save(ctx: BotContext, interaction: StringSelectMenuInteraction | ButtonInteraction | ModalSubmitInteraction, draft: Draft): Promise<void> {
  const problem = nameProblem(ctx, draft.guildId, draft.name);
  if (problem) return void (await interaction.reply({ ...EPHEMERAL, content: `Not saved: ${problem}` }));
  const stored = {
    guildId: draft.guildId,
    name: draft.name,
    commandFile: commandFileText(draft.name, `/comfy command add ${draft.source}`, keptOptions(draft), draft.description),
    template: templateText(draft.workflow),
  };
  const compiled = compileGuildCommand(stored);
  const refusal = compiled.ok ? (payloadProblem(compiled.value) ?? (await liveProblem(ctx, draft, compiled.value))) : problemText(compiled.problems);
  if (refusal !== null || !compiled.ok) return void (await interaction.reply({ ...EPHEMERAL, content: `Not saved: ${refusal}`.slice(0, 2000) }));
  if (!ctx.store.insertGuildCommand({ ...stored, createdBy: interaction.user.id })) {
    return void (await interaction.reply({ ...EPHEMERAL, content: `Not saved: this server already has /${draft.name}.` }));
  }
  ctx.drafts.delete(draft.id);
  ctx.guildCommands.put(draft.guildId, compiled.value);
  ctx.logger.info({ guild: draft.guildId, user: interaction.user.id, command: draft.name, options: compiled.value.options.length }, 'server command added');
  await interaction.deferUpdate();
  try {
    await syncGuildCommands(ctx, draft.guildId);
  } catch (error) {
    // Stored already: the next start-up registers it again.
    ctx.logger.error({ err: error, guild: draft.guildId, command: draft.name }, 'registering a server command failed');
    await interaction.editReply({ content: `Saved /${draft.name}, but Discord did not take the registration yet; it is retried when the bot restarts.`, embeds: [], components: [] });
    return;
  }
  await interaction.editReply({ content: `Saved /${draft.name} in this server only. Try it now; /comfy command export gives its files back.`, embeds: [], components: [] });
}

/** What Discord would refuse in the command's registration, or null. */
function payloadProblem(definition: CommandDefinition): string | null {
  try {
    commandPayload(commandInputFrom(definition));
    return null;
  } catch (error) {
    if (!(error instanceof CommandPayloadError)) throw error;
    return `Discord would refuse it: ${error.message}`;
  }
}

/** What `comfycord check --server` would say against the backend the workflow was converted on, or null. */
async function liveProblem(ctx: BotContext, draft: Draft, definition: CommandDefinition): Promise<string | null> {
  try {
    const problems = await checkAgainstServer(definition, draft.server);
    return problems.length === 0 ? null : problemText(problems);
  } catch (error) {
    // The conversion already read this backend's nodes; a backend gone quiet since does not block the save.
    ctx.logger.warn({ err: error, guild: draft.guildId, command: draft.name }, 'could not check a server command against its backend');
    return null;
  }
}

function problemText(problems: readonly Problem[]): string {
  return problems.map((p) => (p.option ? `option "${p.option}": ${p.message}` : p.message)).join('; ');
}
