// `/comfy config …`: a server's settings, for members with Manage Server. Discord hides `/comfy` from others
// (default_member_permissions), but server admins can change that, so the permission is checked again here.
import type { GuildSettings, GuildSettingsPatch } from '../../jobs/store-settings.js';
import { foldText } from '../../policy/fold.js';
import { patternProblem } from '../../policy/patterns.js';
import { canAdmin, memberAccess } from '../permissions.js';
import { channelMention, formatGuildSettings, roleMention } from './format.js';
import {
  commandNamed,
  optionalBoolean,
  optionalNumber,
  optionalString,
  answer,
  requiredString,
  SettingsError,
  type SettingsDeps,
  type SettingsInteraction,
} from './interaction.js';

/** Long lists slow every check and cannot be shown in one message; past these, admins should prune. */
const MAX_BLOCKED_WORDS = 300;
export const MAX_BLOCKED_PATTERNS = 30;
const MAX_WORD_LENGTH = 100;

interface Change {
  patch: GuildSettingsPatch;
  done: string;
}

type Run = (interaction: SettingsInteraction, deps: SettingsDeps, settings: GuildSettings) => Change | string;

function without(list: readonly string[] | undefined, id: string): string[] {
  return (list ?? []).filter((item) => item !== id);
}

function withAdded(list: readonly string[] | undefined, id: string): string[] {
  return (list ?? []).includes(id) ? [...(list ?? [])] : [...(list ?? []), id];
}

function target(interaction: SettingsInteraction): { channel?: string; role?: string } {
  const channel = optionalString(interaction, 'channel');
  const role = optionalString(interaction, 'role');
  return { ...(channel === undefined ? {} : { channel }), ...(role === undefined ? {} : { role }) };
}

const allow: Run = (interaction, deps, settings) => {
  const command = commandNamed(deps, requiredString(interaction, 'command')).name;
  const { channel, role } = target(interaction);
  if (channel === undefined && role === undefined) throw new SettingsError('Give a channel, a role, or both.');
  const rule = settings.commands[command] ?? {};
  const next = {
    ...rule,
    ...(channel === undefined ? {} : { channels: withAdded(rule.channels, channel) }),
    ...(role === undefined ? {} : { roles: withAdded(rule.roles, role) }),
  };
  const added = [channel === undefined ? null : channelMention(channel), role === undefined ? null : roleMention(role)].filter(Boolean);
  return { patch: { commands: { ...settings.commands, [command]: next } }, done: `/${command} is now allowed for ${added.join(' and ')}.` };
};

const disallow: Run = (interaction, deps, settings) => {
  // A command whose file is gone can still have its old rules removed.
  const typed = requiredString(interaction, 'command').trim().replace(/^\//, '');
  const command = Object.hasOwn(settings.commands, typed) ? typed : commandNamed(deps, typed).name;
  const { channel, role } = target(interaction);
  const { [command]: rule, ...others } = settings.commands;
  if (channel === undefined && role === undefined) {
    return { patch: { commands: others }, done: `/${command} can now be used everywhere, by everyone.` };
  }
  const channels = channel === undefined ? rule?.channels : without(rule?.channels, channel);
  const roles = role === undefined ? rule?.roles : without(rule?.roles, role);
  // Empty lists are dropped: absent and empty both mean "no restriction".
  const merged = { ...(channels?.length ? { channels } : {}), ...(roles?.length ? { roles } : {}) };
  const open = merged.channels === undefined && merged.roles === undefined;
  const note = open ? ` Its lists are empty, so /${command} can now be used everywhere, by everyone.` : '';
  return { patch: { commands: open ? others : { ...others, [command]: merged } }, done: `Removed from /${command}.${note}` };
};

const roleLimits: Run = (interaction, _deps, settings) => {
  const role = optionalString(interaction, 'role');
  if (role === undefined) throw new SettingsError('Give a role.');
  const { [role]: _old, ...others } = settings.roleLimits;
  if (optionalBoolean(interaction, 'reset') === true) {
    return { patch: { roleLimits: others }, done: `${roleMention(role)} now has the bot's standard limits.` };
  }
  const fields = {
    perUserRunning: optionalNumber(interaction, 'running'),
    perUserQueued: optionalNumber(interaction, 'queued'),
    minIntervalSeconds: optionalNumber(interaction, 'interval'),
    dailyQuota: optionalNumber(interaction, 'daily'),
  };
  const given = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
  if (Object.keys(given).length === 0) throw new SettingsError('Give at least one limit (running, queued, interval, daily), or reset: True.');
  // Fields not given keep their earlier value for this role.
  return { patch: { roleLimits: { ...others, [role]: { ...settings.roleLimits[role], ...given } } }, done: `Limits of ${roleMention(role)} saved.` };
};

const moderator =
  (add: boolean): Run =>
  (interaction, _deps, settings) => {
    const role = optionalString(interaction, 'role');
    if (role === undefined) throw new SettingsError('Give a role.');
    const roles = add ? withAdded(settings.moderatorRoles, role) : without(settings.moderatorRoles, role);
    if (!add && roles.length === settings.moderatorRoles.length) throw new SettingsError(`${roleMention(role)} is not a moderator role.`);
    return { patch: { moderatorRoles: roles }, done: `${roleMention(role)} ${add ? 'is now' : 'is no longer'} a moderator role.` };
  };

const spoiler: Run = (interaction) => {
  const on = optionalBoolean(interaction, 'on');
  if (on === undefined) throw new SettingsError('Say on: True or on: False.');
  return { patch: { spoilerResults: on }, done: `Results are ${on ? 'now' : 'no longer'} posted as spoilers.` };
};

const originals: Run = (interaction) => {
  const on = optionalBoolean(interaction, 'on');
  if (on === undefined) throw new SettingsError('Say on: True or on: False.');
  return { patch: { gridOriginals: on }, done: on ? 'A batch\'s original files are now attached under its grid.' : 'A batch\'s original files now come with its Files button only.' };
};

const relax: Run = (interaction) => {
  const on = optionalBoolean(interaction, 'on');
  if (on === undefined) throw new SettingsError('Say on: True or on: False.');
  return {
    patch: { allowRelax: on },
    done: on
      ? "Relax mode is now allowed here: members may choose it with /settings mode, and once a member's fast GPU time is used up their jobs run in relax instead of being refused."
      : "Relax mode is now off here: every job runs fast and counts in its member's GPU time; once that is used up, jobs are refused until it resets.",
  };
};

/** Exactly one of `word` and `pattern`. */
function wordOrPattern(interaction: SettingsInteraction): { kind: 'word' | 'pattern'; text: string } {
  const word = optionalString(interaction, 'word')?.trim();
  const pattern = optionalString(interaction, 'pattern');
  if ((word === undefined || word === '') === (pattern === undefined || pattern === '')) throw new SettingsError('Give either a word or a pattern.');
  return word ? { kind: 'word', text: word } : { kind: 'pattern', text: pattern! };
}

const block: Run = (interaction, _deps, settings) => {
  const { kind, text } = wordOrPattern(interaction);
  if (kind === 'word') {
    if (text.length > MAX_WORD_LENGTH) throw new SettingsError(`A blocked word can be at most ${MAX_WORD_LENGTH} characters.`);
    if (foldText(text).trim() === '') throw new SettingsError('That word has no visible letters once accents and invisible characters are removed.');
    if (settings.blockedWords.some((word) => word.toLowerCase() === text.toLowerCase())) throw new SettingsError(`\`${text}\` is already blocked.`);
    if (settings.blockedWords.length >= MAX_BLOCKED_WORDS) throw new SettingsError(`The list already has ${MAX_BLOCKED_WORDS} words; unblock some first.`);
    return { patch: { blockedWords: [...settings.blockedWords, text] }, done: `Prompts with the word \`${text}\` are now refused.` };
  }
  const problem = patternProblem(text);
  if (problem !== null) throw new SettingsError(`Pattern not added: ${problem}.`);
  if (settings.blockedPatterns.includes(text)) throw new SettingsError(`\`${text}\` is already blocked.`);
  if (settings.blockedPatterns.length >= MAX_BLOCKED_PATTERNS) throw new SettingsError(`The list already has ${MAX_BLOCKED_PATTERNS} patterns; unblock some first.`);
  return { patch: { blockedPatterns: [...settings.blockedPatterns, text] }, done: `Prompts matching \`${text}\` are now refused.` };
};

const unblock: Run = (interaction, _deps, settings) => {
  const { kind, text } = wordOrPattern(interaction);
  if (kind === 'word') {
    const words = settings.blockedWords.filter((word) => word.toLowerCase() !== text.toLowerCase());
    if (words.length === settings.blockedWords.length) throw new SettingsError(`\`${text}\` is not a blocked word.`);
    return { patch: { blockedWords: words }, done: `\`${text}\` is no longer blocked.` };
  }
  const patterns = settings.blockedPatterns.filter((pattern) => pattern !== text);
  if (patterns.length === settings.blockedPatterns.length) throw new SettingsError(`\`${text}\` is not a blocked pattern.`);
  return { patch: { blockedPatterns: patterns }, done: `\`${text}\` is no longer blocked.` };
};

const replyText: Run = (interaction) => {
  const text = optionalString(interaction, 'text')?.trim();
  if (!text) return { patch: { blockedReply: null }, done: 'Refused prompts now get the standard answer.' };
  return { patch: { blockedReply: text }, done: 'Refused prompts now get your answer.' };
};

const SUBCOMMANDS: Record<string, Run> = {
  show: (_interaction, deps, settings) => formatGuildSettings(settings, deps.relaxDefault),
  allow,
  disallow,
  'role-limits': roleLimits,
  'moderator-add': moderator(true),
  'moderator-remove': moderator(false),
  spoiler,
  originals,
  relax,
  block,
  unblock,
  reply: replyText,
};

function run(interaction: SettingsInteraction, deps: SettingsDeps): string {
  if (interaction.guildId === null) throw new SettingsError('Server settings can only be changed in a server.');
  if (!canAdmin(memberAccess(interaction.member, interaction.memberPermissions))) {
    throw new SettingsError('You need the Manage Server permission to change these settings.');
  }
  const name = interaction.options.getSubcommand(true);
  const handler = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
  if (!handler) throw new SettingsError(`Unknown /comfy config subcommand "${name}".`);
  const result = handler(interaction, deps, deps.store.guildSettings(interaction.guildId));
  if (typeof result === 'string') return result;
  // The store re-validates every setting; a StoreError names the field ("roleLimits.1.dailyQuota: …").
  deps.store.setGuildSettings(interaction.guildId, result.patch);
  return result.done;
}

/** Runs `/comfy config …` (the caller routes the `config` group here) and answers ephemerally. */
export function handleComfyConfig(interaction: SettingsInteraction, deps: SettingsDeps): Promise<void> {
  return answer(interaction, () => run(interaction, deps));
}
