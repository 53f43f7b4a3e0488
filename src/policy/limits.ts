// A guild's per-role limits joined to the configured ones, in the shape the scheduler resolves.
// Decision: a guild's role limits are guild+role overrides, the same level as a config override naming that guild
// and role. So, exactly as the scheduler's resolveLimits does for config overrides: a member with several limited
// roles gets the most generous value of each field (largest counts and quota, shortest interval), and a config
// override that also names the command is more specific and still wins. Admins can thus raise or lower limits
// for their roles, and an operator keeps a per-command cap.
import type { LimitOverride, Limits } from '../config/schema.js';
import type { JobOwner } from '../jobs/job.js';
import type { GuildSettings } from '../jobs/store-settings.js';
import { resolveLimits } from '../scheduler/limits.js';
import type { CommandLimits } from '../templates/definition.js';

/** The guild's role limits as overrides scoped to that guild. */
export function guildLimitOverrides(guildId: string, settings: GuildSettings): LimitOverride[] {
  return Object.entries(settings.roleLimits).map(([role, limits]) => ({ ...limits, guild: guildId, role }));
}

/** Config overrides followed by the guild's; pass the result to the scheduler's resolveLimits. */
export function limitOverridesFor(configOverrides: readonly LimitOverride[], guildId: string | null, settings: GuildSettings | null): LimitOverride[] {
  if (guildId === null || settings === null) return [...configOverrides];
  return [...configOverrides, ...guildLimitOverrides(guildId, settings)];
}

export interface MemberLimitsInput {
  limits: Limits;
  limitOverrides: readonly LimitOverride[];
  /** The settings of the owner's guild; null in DMs. */
  settings: GuildSettings | null;
  owner: JobOwner;
  command: string;
  commandLimits?: CommandLimits;
}

/** The limits one member's submission is held to. */
export function memberLimits(input: MemberLimitsInput): Limits {
  const overrides = limitOverridesFor(input.limitOverrides, input.owner.guildId, input.settings);
  return resolveLimits(input.limits, overrides, { owner: input.owner, command: input.command, commandLimits: input.commandLimits });
}

/** Whether result attachments are posted as spoilers (SPOILER_ file names) in this guild; never in DMs. */
export function spoilerResults(settings: GuildSettings | null): boolean {
  return settings?.spoilerResults ?? false;
}
