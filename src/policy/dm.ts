// A command used in a DM (`guild_only: false`) has no server, so no server policy: the operator's `dmPolicy`
// from the configuration stands in for it (blocked words and patterns, the refusal text). The configured limits
// apply there as everywhere; per-server role limits and access rules do not exist in a DM.
import type { Config } from '../config/schema.js';
import { guildSettingsSchema, type GuildSettings } from '../jobs/store-settings.js';
import { patternProblem } from './patterns.js';

export type DmPolicy = Config['dmPolicy'];

/** The standard refusal in a DM (a server's names the server). */
export const DM_BLOCKED_REPLY = 'Your prompt contains something this bot does not allow in direct messages. Please change it and try again.';

// One object per policy: the checks find its compiled lists by identity, without reading a long list again.
const converted = new WeakMap<DmPolicy, GuildSettings>();

/** The DM policy in the shape the checks read a server's settings in (the same object for the same policy). */
export function dmSettings(policy: DmPolicy): GuildSettings {
  let settings = converted.get(policy);
  if (!settings) {
    settings = guildSettingsSchema.parse({
      blockedWords: policy.blockedWords,
      blockedPatterns: policy.blockedPatterns,
      blockedReply: policy.blockedReply ?? DM_BLOCKED_REPLY,
    });
    converted.set(policy, settings);
  }
  return settings;
}

/** One line per pattern the checks would refuse, named by its place in the configuration. */
export function dmPolicyProblems(policy: DmPolicy): string[] {
  return policy.blockedPatterns.flatMap((pattern, i) => {
    const problem = patternProblem(pattern);
    return problem === null ? [] : [`dmPolicy.blockedPatterns[${i}]: ${problem}`];
  });
}
