// Application-command JSON for Discord, built from command definitions and the bot's built-in commands, and the
// comparison that decides whether start-up must re-register them (Discord allows 200 command creates per day).
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  PermissionFlagsBits,
  type APIApplicationCommandBasicOption,
  type APIApplicationCommandStringOption,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import { truncate } from './embedLimits.js';

/** The part of a command file that shapes its slash command (mirrors the command-file format). */
export interface CommandInput {
  name: string;
  description?: string;
  options?: readonly CommandOptionInput[];
  /** Default true: the command is offered in servers only. `false` also offers it in DMs with the bot. */
  guild_only?: boolean;
}

export type CommandOptionType = 'string' | 'integer' | 'number' | 'boolean' | 'choice' | 'image';

export interface CommandOptionInput {
  name: string;
  type: CommandOptionType;
  description?: string;
  required?: boolean;
  min?: number;
  max?: number;
  min_length?: number;
  max_length?: number;
  /** Fixed choices: a list of labels, or label → value (the value stays in the template; Discord sends the label). */
  choices?: readonly (string | number)[] | Readonly<Record<string, unknown>>;
  /** Choices known only at run time (models, samplers): offered through autocomplete. */
  choices_from?: string;
}

export type CommandPayload = RESTPostAPIChatInputApplicationCommandsJSONBody;

export class CommandPayloadError extends Error {
  override readonly name = 'CommandPayloadError';
}

export const BUILTIN_COMMAND_NAMES = ['queue', 'cancel', 'help', 'comfy', 'show', 'info'] as const;
export const ADMIN_SUBCOMMANDS = ['status', 'pause', 'resume', 'drain'] as const;

const DISCORD = {
  nameMax: 32,
  descriptionMax: 100,
  optionsMax: 25,
  choicesMax: 25,
  choiceMax: 100,
  stringMax: 6000,
  commandsMax: 100,
  /** Discord's integer and number options are limited to ±(2^53 - 1). */
  numberLimit: Number.MAX_SAFE_INTEGER,
} as const;
/** Discord's rule for command and option names (lowercase letters of any script, digits, "-" and "_"). */
const NAME_PATTERN = /^[-_\p{Ll}\p{Lo}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

const GUILD_ONLY = [InteractionContextType.Guild];
const GUILD_AND_DM = [InteractionContextType.Guild, InteractionContextType.BotDM];
const MANAGE_GUILD = PermissionFlagsBits.ManageGuild.toString();

function checkName(name: string, what: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new CommandPayloadError(`${what} name ${JSON.stringify(name)} must be 1-32 lowercase letters, digits, "-" or "_"`);
  }
}

function description(text: string | undefined, fallback: string): string {
  const clean = (text ?? '').trim();
  return truncate(clean || fallback, DISCORD.descriptionMax);
}

function clampLimit(value: number | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value)) throw new CommandPayloadError(`${what} must be a finite number, got ${value}`);
  return Math.min(Math.max(value, -DISCORD.numberLimit), DISCORD.numberLimit);
}

function choiceLabels(choices: NonNullable<CommandOptionInput['choices']>): string[] {
  return Array.isArray(choices) ? choices.map(String) : Object.keys(choices);
}

function choiceOption(option: CommandOptionInput, base: { name: string; description: string; required: boolean }, where: string): APIApplicationCommandStringOption {
  if (option.choices_from !== undefined) {
    if (option.choices !== undefined) throw new CommandPayloadError(`${where}: has both choices and choices_from; keep one`);
    return { ...base, type: ApplicationCommandOptionType.String, autocomplete: true };
  }
  if (option.choices === undefined) throw new CommandPayloadError(`${where}: a choice option needs choices or choices_from`);
  const labels = choiceLabels(option.choices);
  if (labels.length === 0) throw new CommandPayloadError(`${where}: choices is empty`);
  const tooLong = labels.find((label) => label.length === 0 || label.length > DISCORD.choiceMax);
  if (tooLong !== undefined) throw new CommandPayloadError(`${where}: choice ${JSON.stringify(truncate(tooLong, 40))} must be 1-100 characters`);
  // More than Discord lists: the same fixed labels are offered through autocomplete instead.
  if (labels.length > DISCORD.choicesMax) return { ...base, type: ApplicationCommandOptionType.String, autocomplete: true };
  return { ...base, type: ApplicationCommandOptionType.String, choices: labels.map((label) => ({ name: label, value: label })) };
}

function optionPayload(option: CommandOptionInput, command: string): APIApplicationCommandBasicOption {
  const where = `command "${command}", option "${option.name}"`;
  checkName(option.name, `${where}:`);
  const base = { name: option.name, description: description(option.description, option.name), required: option.required === true };
  const min = clampLimit(option.min, `${where}: min`);
  const max = clampLimit(option.max, `${where}: max`);
  if (min !== undefined && max !== undefined && min > max) throw new CommandPayloadError(`${where}: min ${min} is above max ${max}`);
  const range = { ...(min === undefined ? {} : { min_value: min }), ...(max === undefined ? {} : { max_value: max }) };
  switch (option.type) {
    case 'string': {
      const minLength = option.min_length === 0 ? undefined : option.min_length;
      const maxLength = option.max_length;
      for (const [key, value] of [['min_length', minLength], ['max_length', maxLength]] as const) {
        if (value !== undefined && (!Number.isInteger(value) || value < 1 || value > DISCORD.stringMax)) {
          throw new CommandPayloadError(`${where}: ${key} must be an integer from 1 to ${DISCORD.stringMax}, got ${value}`);
        }
      }
      if (minLength !== undefined && maxLength !== undefined && minLength > maxLength) {
        throw new CommandPayloadError(`${where}: min_length ${minLength} is above max_length ${maxLength}`);
      }
      return {
        ...base,
        type: ApplicationCommandOptionType.String,
        ...(minLength === undefined ? {} : { min_length: minLength }),
        ...(maxLength === undefined ? {} : { max_length: maxLength }),
        ...(option.choices_from !== undefined ? { autocomplete: true as const } : {}),
      };
    }
    case 'integer':
      return { ...base, type: ApplicationCommandOptionType.Integer, ...range };
    case 'number':
      return { ...base, type: ApplicationCommandOptionType.Number, ...range };
    case 'boolean':
      return { ...base, type: ApplicationCommandOptionType.Boolean };
    case 'image':
      return { ...base, type: ApplicationCommandOptionType.Attachment };
    case 'choice':
      return choiceOption(option, base, where);
    default:
      throw new CommandPayloadError(`${where}: unknown type ${JSON.stringify((option as { type: unknown }).type)}`);
  }
}

/** The slash command of one command definition; throws CommandPayloadError naming the command and option. */
export function commandPayload(command: CommandInput): CommandPayload {
  checkName(command.name, 'command');
  const options = (command.options ?? []).map((option) => optionPayload(option, command.name));
  if (options.length > DISCORD.optionsMax) {
    throw new CommandPayloadError(`command "${command.name}" has ${options.length} options; Discord allows ${DISCORD.optionsMax}`);
  }
  const seen = new Set<string>();
  for (const option of options) {
    if (seen.has(option.name)) throw new CommandPayloadError(`command "${command.name}": option "${option.name}" appears twice`);
    seen.add(option.name);
  }
  // Discord refuses a required option after an optional one; keep the file's order otherwise.
  const ordered = [...options.filter((o) => o.required), ...options.filter((o) => !o.required)];
  return {
    name: command.name,
    type: ApplicationCommandType.ChatInput,
    description: description(command.description, `Run ${command.name}`),
    options: ordered,
    contexts: command.guild_only === false ? GUILD_AND_DM : GUILD_ONLY,
    integration_types: [ApplicationIntegrationType.GuildInstall],
  };
}

export interface BuiltinOptions {
  /** Configured backend names, offered as choices of `/comfy … backend` (autocomplete when more than 25). */
  backendNames: readonly string[];
}

function backendOption(backendNames: readonly string[]): APIApplicationCommandStringOption {
  const base = { type: ApplicationCommandOptionType.String, name: 'backend', description: 'One backend (default: all)', required: false } as const;
  const names = backendNames.filter((name) => name.length >= 1 && name.length <= DISCORD.choiceMax);
  if (names.length > DISCORD.choicesMax || names.length !== backendNames.length) return { ...base, autocomplete: true };
  return { ...base, choices: names.map((name) => ({ name, value: name })) };
}

const ADMIN_DESCRIPTIONS: Record<(typeof ADMIN_SUBCOMMANDS)[number], string> = {
  status: 'Backends: up or down, queue, VRAM',
  pause: "Hold this server's queued jobs (running ones finish)",
  resume: "Start this server's jobs again",
  drain: "Accept no new jobs from this server; queued and running ones finish",
};

/** Operators only: the pause, resume or drain applies to every server, not only the one it is typed in. */
const EVERYWHERE_OPTION = {
  type: ApplicationCommandOptionType.Boolean,
  name: 'everywhere',
  description: "The whole bot, every server (the bot's operators only)",
  required: false,
} as const;

export function builtinPayloads(options: BuiltinOptions): CommandPayload[] {
  const common = { type: ApplicationCommandType.ChatInput as const, contexts: GUILD_ONLY, integration_types: [ApplicationIntegrationType.GuildInstall] };
  const backend = backendOption(options.backendNames);
  return [
    { ...common, name: 'queue', description: 'Your jobs and the queue', options: [] },
    { ...common, name: 'cancel', description: 'Cancel all your queued and running jobs', options: [] },
    { ...common, name: 'help', description: 'What each command does', options: [] },
    { ...common, name: 'info', description: 'Your GPU time, fast time left and jobs', options: [] },
    {
      ...common,
      name: 'show',
      description: "Post a job's result again, with its buttons",
      options: [{ type: ApplicationCommandOptionType.String, name: 'job', description: 'The job id (card footer) or a link to its card', required: true, max_length: 200 }],
    },
    {
      ...common,
      name: 'comfy',
      description: 'Manage the ComfyUI backends',
      default_member_permissions: MANAGE_GUILD,
      options: [
        ...ADMIN_SUBCOMMANDS.map((name) => ({
          type: ApplicationCommandOptionType.Subcommand as const,
          name,
          description: ADMIN_DESCRIPTIONS[name],
          options: name === 'status' ? [backend] : [backend, EVERYWHERE_OPTION],
        })),
        {
          type: ApplicationCommandOptionType.Subcommand as const,
          name: 'usage',
          description: 'Top users by GPU time this month',
          options: [{ ...EVERYWHERE_OPTION, description: "Every server (the bot's operators only)" }],
        },
      ],
    },
  ];
}

export interface CommandProblem {
  command: string;
  message: string;
}

/** Every payload to register; broken definitions are left out and reported, one line each. */
export function buildCommandPayloads(
  commands: Iterable<CommandInput>,
  builtins: BuiltinOptions,
): { payloads: CommandPayload[]; problems: CommandProblem[] } {
  const payloads = builtinPayloads(builtins);
  const problems: CommandProblem[] = [];
  const taken = new Set<string>(BUILTIN_COMMAND_NAMES);
  for (const command of commands) {
    if (taken.has(command.name)) {
      const clash = (BUILTIN_COMMAND_NAMES as readonly string[]).includes(command.name) ? 'a built-in command' : 'another command file';
      problems.push({ command: command.name, message: `command "${command.name}" is already ${clash}; rename it` });
      continue;
    }
    if (payloads.length >= DISCORD.commandsMax) {
      problems.push({ command: command.name, message: `command "${command.name}" left out: Discord allows ${DISCORD.commandsMax} commands` });
      continue;
    }
    try {
      payloads.push(commandPayload(command));
      taken.add(command.name);
    } catch (error) {
      if (!(error instanceof CommandPayloadError)) throw error;
      problems.push({ command: command.name, message: error.message });
    }
  }
  return { payloads, problems };
}

/** A command as sent or as `GET /applications/{app}[/guilds/{guild}]/commands` returns it (raw JSON). */
export interface CommandLike {
  name: string;
  type?: number;
  description?: string;
  options?: readonly OptionLike[];
  default_member_permissions?: string | null;
  contexts?: readonly number[] | null;
  integration_types?: readonly number[];
  nsfw?: boolean;
  name_localizations?: Record<string, string | null> | null;
  description_localizations?: Record<string, string | null> | null;
}

export interface OptionLike {
  type: number;
  name: string;
  description?: string;
  required?: boolean;
  autocomplete?: boolean;
  choices?: readonly { name: string; value: string | number }[];
  options?: readonly OptionLike[];
  min_value?: number;
  max_value?: number;
  min_length?: number;
  max_length?: number;
  channel_types?: readonly number[];
}

function emptyToNull<T>(value: Readonly<Record<string, T | null>> | null | undefined): Record<string, T | null> | null {
  return value && Object.keys(value).length > 0 ? { ...value } : null;
}

/** The fields that matter, with Discord's defaults filled in, in a fixed key order (ids, versions etc. dropped). */
function normalizeOption(option: OptionLike): unknown {
  return {
    type: option.type,
    name: option.name,
    description: option.description ?? '',
    required: option.required ?? false,
    autocomplete: option.autocomplete ?? false,
    choices: option.choices && option.choices.length > 0 ? option.choices.map((c) => ({ name: c.name, value: c.value })) : null,
    options: option.options && option.options.length > 0 ? option.options.map(normalizeOption) : null,
    min_value: option.min_value ?? null,
    max_value: option.max_value ?? null,
    min_length: option.min_length ?? null,
    max_length: option.max_length ?? null,
    channel_types: option.channel_types ? [...option.channel_types].sort() : null,
  };
}

function normalizeCommand(command: CommandLike): string {
  return JSON.stringify({
    type: command.type ?? ApplicationCommandType.ChatInput,
    description: command.description ?? '',
    options: (command.options ?? []).map(normalizeOption),
    default_member_permissions: command.default_member_permissions ?? null,
    contexts: command.contexts ? [...command.contexts].sort() : null,
    integration_types: [...(command.integration_types ?? [ApplicationIntegrationType.GuildInstall])].sort(),
    nsfw: command.nsfw ?? false,
    name_localizations: emptyToNull(command.name_localizations),
    description_localizations: emptyToNull(command.description_localizations),
  });
}

/** Why the registered commands differ from the desired ones, one line each; empty when they match. */
export function commandDifferences(desired: readonly CommandLike[], existing: readonly CommandLike[]): string[] {
  const key = (command: CommandLike) => `${command.type ?? ApplicationCommandType.ChatInput}:${command.name}`;
  const registered = new Map(existing.map((command) => [key(command), command]));
  const differences: string[] = [];
  for (const command of desired) {
    const current = registered.get(key(command));
    if (!current) differences.push(`/${command.name} is not registered`);
    else if (normalizeCommand(current) !== normalizeCommand(command)) differences.push(`/${command.name} changed`);
    registered.delete(key(command));
  }
  for (const command of registered.values()) differences.push(`/${command.name} is registered but no longer defined`);
  return differences;
}

export function needsRegistration(desired: readonly CommandLike[], existing: readonly CommandLike[]): boolean {
  return commandDifferences(desired, existing).length > 0;
}
