// Text for members and admins: ids become mentions (<#channel>, <@&role>) that Discord shows as names.
import type { GuildSettings, UserDefaults } from '../../jobs/store-settings.js';
import type { AccessRefusal } from '../../policy/access.js';
import type { DroppedDefault } from '../../policy/defaults.js';
import { DEFAULT_BLOCKED_REPLY } from '../../policy/moderation.js';
import { relaxAllowed } from '../../policy/relax.js';

export const channelMention = (id: string): string => `<#${id}>`;
export const roleMention = (id: string): string => `<@&${id}>`;

/** "/imagine can only be used in #art, #bots." — the answer to a command used where it is not allowed. */
export function refusalMessage(refusal: AccessRefusal): string {
  if (refusal.reason === 'channel') {
    return `/${refusal.command} can only be used in ${refusal.channelIds.map(channelMention).join(', ')}.`;
  }
  const roles = refusal.roleIds.map(roleMention).join(', ');
  return refusal.roleIds.length === 1
    ? `To use /${refusal.command} you need the role ${roles}.`
    : `To use /${refusal.command} you need one of these roles: ${roles}.`;
}

function value(value: string | number | boolean): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

export function formatDefaults(command: string, saved: UserDefaults, dropped: readonly DroppedDefault[]): string {
  const entries = Object.entries(saved);
  const lines = [
    entries.length === 0 ? `/${command}: nothing saved.` : `/${command}: ${entries.map(([name, v]) => `${name} = ${value(v)}`).join(', ')}`,
  ];
  for (const drop of dropped) lines.push(`  no longer used: ${drop.option} (${drop.reason})`);
  return lines.join('\n');
}

function limitsText(limits: GuildSettings['roleLimits'][string]): string {
  const parts = [
    limits.perUserRunning === undefined ? null : `${limits.perUserRunning} running`,
    limits.perUserQueued === undefined ? null : `${limits.perUserQueued} waiting`,
    limits.minIntervalSeconds === undefined ? null : `${limits.minIntervalSeconds} s apart`,
    limits.dailyQuota === undefined ? null : `${limits.dailyQuota} a day`,
  ];
  return parts.filter((part) => part !== null).join(', ');
}

const QUEUE_TEXT = {
  open: 'taken as usual',
  paused: 'paused (they wait until /comfy resume)',
  draining: 'draining (new ones refused until /comfy resume)',
} as const;

/** `relaxDefault`: the config's `relax.allowed`, which applies while the server's admins have not said. */
export function formatGuildSettings(settings: GuildSettings, relaxDefault: boolean): string {
  const lines: string[] = [];
  const rules = Object.entries(settings.commands).filter(([, rule]) => (rule.channels?.length ?? 0) + (rule.roles?.length ?? 0) > 0);
  lines.push(rules.length === 0 ? 'Commands: usable everywhere, by everyone.' : 'Commands:');
  for (const [name, rule] of rules) {
    const where = rule.channels?.length ? `in ${rule.channels.map(channelMention).join(', ')}` : 'anywhere';
    const who = rule.roles?.length ? `by ${rule.roles.map(roleMention).join(', ')}` : 'by everyone';
    lines.push(`  /${name}: ${where}, ${who}`);
  }
  const limited = Object.entries(settings.roleLimits);
  lines.push(limited.length === 0 ? 'Role limits: none (the bot\'s limits apply).' : 'Role limits:');
  for (const [role, limits] of limited) lines.push(`  ${roleMention(role)}: ${limitsText(limits)}`);
  lines.push(`Moderator roles: ${settings.moderatorRoles.length === 0 ? 'none' : settings.moderatorRoles.map(roleMention).join(', ')}`);
  lines.push(`Results as spoilers: ${settings.spoilerResults ? 'on' : 'off'}`);
  lines.push(`Batch originals under the grid: ${settings.gridOriginals ? 'on' : 'off (Files button)'}`);
  lines.push(`Blocked words: ${settings.blockedWords.length === 0 ? 'none' : settings.blockedWords.map((w) => `\`${w}\``).join(', ')}`);
  lines.push(`Blocked patterns: ${settings.blockedPatterns.length === 0 ? 'none' : settings.blockedPatterns.map((p) => `\`${p}\``).join(', ')}`);
  lines.push(`Reply to a blocked prompt: ${settings.blockedReply ?? `(standard) ${DEFAULT_BLOCKED_REPLY}`}`);
  lines.push(`This server's jobs: ${QUEUE_TEXT[settings.queue]}`);
  const relax = relaxAllowed(settings, relaxDefault) ? 'allowed' : 'not allowed';
  lines.push(`Relax mode: ${relax}${settings.allowRelax === null ? " (the bot's default)" : ''}`);
  return lines.join('\n');
}
