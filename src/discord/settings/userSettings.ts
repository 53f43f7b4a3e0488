// `/settings show | set | clear`: a member's saved option values, checked against the command as it is now.
import { checkDefault, checkDefaults } from '../../policy/defaults.js';
import { checkPrompt } from '../../policy/moderation.js';
import { relaxAllowed } from '../../policy/relax.js';
import { JOB_MODES, type JobMode } from '../../jobs/job.js';
import { OptionError } from '../../templates/errors.js';
import type { CommandDefinition } from '../../templates/definition.js';
import { formatDefaults } from './format.js';
import {
  commandNamed,
  optionalString,
  answer,
  requiredString,
  SettingsError,
  type SettingsDeps,
  type SettingsInteraction,
} from './interaction.js';

const isJobMode = (value: string): value is JobMode => (JOB_MODES as readonly string[]).includes(value);

function show(interaction: SettingsInteraction, deps: SettingsDeps): string {
  const name = optionalString(interaction, 'command');
  const commands = name === undefined ? [...deps.commands().values()] : [commandNamed(deps, name)];
  const blocks = commands.flatMap((command) => {
    const saved = deps.store.userDefaults(interaction.user.id, command.name);
    if (name === undefined && Object.keys(saved).length === 0) return [];
    const { valid, dropped } = checkDefaults(command, saved);
    return [formatDefaults(command.name, valid, dropped)];
  });
  return blocks.length === 0 ? 'You have no saved values. Save one with /settings set.' : blocks.join('\n');
}

/** A saved prompt is checked against the server's blocked list now, not only when it is used. */
async function refuseBlocked(interaction: SettingsInteraction, deps: SettingsDeps, option: string, value: unknown): Promise<void> {
  if (interaction.guildId === null || typeof value !== 'string') return;
  const check = await checkPrompt(deps.store.guildSettings(interaction.guildId), { [option]: value }, [option]);
  if (check.blocked) throw new SettingsError(check.reply);
}

async function set(interaction: SettingsInteraction, deps: SettingsDeps): Promise<string> {
  const command = commandNamed(deps, requiredString(interaction, 'command'));
  const option = requiredString(interaction, 'option').trim();
  const raw = requiredString(interaction, 'value');
  let value: string | number | boolean;
  try {
    value = checkDefault(command, option, raw);
  } catch (error) {
    if (error instanceof OptionError) throw new SettingsError(`Not saved: ${error.message}.`);
    throw error;
  }
  await refuseBlocked(interaction, deps, option, value);
  // Stale values are dropped on every save, so the stored set only ever holds values that fit.
  const { valid } = checkDefaults(command, deps.store.userDefaults(interaction.user.id, command.name));
  deps.store.setUserDefaults(interaction.user.id, command.name, { ...valid, [option]: value });
  return `Saved: /${command.name} uses ${option} = ${typeof value === 'string' ? JSON.stringify(value) : value} when you leave it out.`;
}

function clear(interaction: SettingsInteraction, deps: SettingsDeps): string {
  const command = commandNamed(deps, requiredString(interaction, 'command'));
  const option = optionalString(interaction, 'option')?.trim();
  const saved = deps.store.userDefaults(interaction.user.id, command.name);
  if (option === undefined || option === '') {
    deps.store.setUserDefaults(interaction.user.id, command.name, null);
    return `Cleared your saved values for /${command.name}.`;
  }
  if (!Object.hasOwn(saved, option)) throw new SettingsError(`You have no saved value for ${option} of /${command.name}.`);
  const { [option]: _removed, ...rest } = saved;
  deps.store.setUserDefaults(interaction.user.id, command.name, rest);
  return `Cleared ${option} of /${command.name}.`;
}

/** `/settings mode fast|relax`: kept per member, used in every server that allows relax. */
function mode(interaction: SettingsInteraction, deps: SettingsDeps): string {
  const chosen = requiredString(interaction, 'mode');
  if (!isJobMode(chosen)) throw new SettingsError(`"${chosen}" is not a mode; choose fast or relax.`);
  deps.store.setUserMode(interaction.user.id, chosen);
  if (chosen === 'fast') return 'Your jobs now run fast: they count in your GPU time, and run in relax only once it is used up where relax is allowed.';
  const here = interaction.guildId === null ? relaxAllowed(null, deps.relaxDefault) : relaxAllowed(deps.store.guildSettings(interaction.guildId), deps.relaxDefault);
  const note = here ? '' : ' Relax is not allowed here, so your jobs here still run fast.';
  return `Your jobs now run in relax where it is allowed: after every fast job, and not counted in your fast GPU time.${note}`;
}

const SUBCOMMANDS = { show, set, clear, mode } as const;

/** Runs `/settings …` and answers ephemerally; bad input gets a plain sentence, never a stack trace. */
export function handleSettings(interaction: SettingsInteraction, deps: SettingsDeps): Promise<void> {
  return answer(interaction, () => {
    const name = interaction.options.getSubcommand(true);
    const run = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name as keyof typeof SUBCOMMANDS] : undefined;
    if (!run) throw new SettingsError(`Unknown /settings subcommand "${name}".`);
    return run(interaction, deps);
  });
}

export interface AutocompleteChoice {
  name: string;
  value: string;
}

const MAX_CHOICES = 25;

function savable(command: CommandDefinition): string[] {
  return command.options.filter((option) => !option.hidden && !option.required && option.type !== 'image').map((option) => option.name);
}

/**
 * Suggestions for `/settings`'s `command` and `option` fields (the interaction's focused option), filtered by
 * what is typed so far.
 */
export function settingsAutocomplete(
  focused: { name: string; value: string },
  commandTyped: string | null,
  commands: ReadonlyMap<string, CommandDefinition>,
): AutocompleteChoice[] {
  const typed = focused.value.trim().toLowerCase();
  let names: string[];
  if (focused.name === 'command') names = [...commands.keys()];
  else if (focused.name === 'option') {
    const command = commandTyped === null ? undefined : commands.get(commandTyped.trim().replace(/^\//, ''));
    names = command ? savable(command) : [];
  } else names = [];
  return names
    .filter((name) => name.toLowerCase().includes(typed))
    .slice(0, MAX_CHOICES)
    .map((name) => ({ name, value: name }));
}
