// The policy checks of one submission, in the order that makes them sound: where and by whom first, then the
// user's saved values merged in, then the blocked list on the merged text — so a saved default is checked too.
// Limits are not here: the scheduler applies them when the job is submitted (see limits.ts).
import type { GuildSettings, UserDefaults } from '../jobs/store-settings.js';
import type { CommandDefinition } from '../templates/definition.js';
import { checkAccess, type AccessRefusal } from './access.js';
import { applyDefaults, type DroppedDefault } from './defaults.js';
import { checkPrompt, promptOptionNames, type BlockedMatch } from './moderation.js';

export interface SubmissionInput {
  /** The guild's settings; null in DMs, where only the user's saved values apply. */
  settings: GuildSettings | null;
  command: CommandDefinition;
  channelId: string;
  parentChannelId?: string | null;
  roleIds: readonly string[];
  isModerator: boolean;
  /** The options as the member gave them. */
  explicit: Record<string, unknown>;
  saved: UserDefaults;
}

export type Admission =
  | { outcome: 'admitted'; values: Record<string, unknown>; dropped: DroppedDefault[] }
  | { outcome: 'refused-access'; refusal: AccessRefusal }
  | { outcome: 'blocked'; reply: string; matched: BlockedMatch; values: Record<string, unknown> };

/** `values` of an admitted submission go to prepareJob; the outcomes match the audit log's. */
export async function admitSubmission(input: SubmissionInput): Promise<Admission> {
  if (input.settings) {
    const access = checkAccess({
      settings: input.settings,
      command: input.command.name,
      channelId: input.channelId,
      parentChannelId: input.parentChannelId ?? null,
      roleIds: input.roleIds,
      isModerator: input.isModerator,
    });
    if (!access.ok) return { outcome: 'refused-access', refusal: access };
  }
  const { values, dropped } = applyDefaults(input.command, input.explicit, input.saved);
  if (input.settings) {
    const check = await checkPrompt(input.settings, values, promptOptionNames(input.command));
    if (check.blocked) return { outcome: 'blocked', reply: check.reply, matched: check.matched, values };
  }
  return { outcome: 'admitted', values, dropped };
}
