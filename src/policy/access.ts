// Where a command may be used and by whom, from a guild's settings. Pure: the Discord side formats the ids as
// mentions, so the refusal names the channels and roles a member can actually click.
import type { GuildSettings } from '../jobs/store-settings.js';

export interface AccessRequest {
  settings: GuildSettings;
  command: string;
  channelId: string;
  /** A thread's parent channel: a thread inside an allowed channel counts as that channel. */
  parentChannelId?: string | null;
  roleIds: readonly string[];
  isModerator: boolean;
}

export type AccessRefusal =
  | { ok: false; reason: 'channel'; command: string; channelIds: string[] }
  | { ok: false; reason: 'role'; command: string; roleIds: string[] };

export type AccessResult = { ok: true } | AccessRefusal;

/**
 * An empty or absent list means "no restriction", so removing the last allowed channel reopens the command
 * rather than silently locking everybody out. Moderators skip the role check (they must be able to try what
 * they moderate) but not the channel check: channels decide where results are posted, for everyone.
 */
export function checkAccess(request: AccessRequest): AccessResult {
  const rule = request.settings.commands[request.command];
  const channels = rule?.channels ?? [];
  const inAllowedChannel =
    channels.includes(request.channelId) || (request.parentChannelId != null && channels.includes(request.parentChannelId));
  if (channels.length > 0 && !inAllowedChannel) {
    return { ok: false, reason: 'channel', command: request.command, channelIds: [...channels] };
  }
  const roles = rule?.roles ?? [];
  if (roles.length > 0 && !request.isModerator && !request.roleIds.some((role) => roles.includes(role))) {
    return { ok: false, reason: 'role', command: request.command, roleIds: [...roles] };
  }
  return { ok: true };
}

/** The configured moderator roles and the guild's own: members of either may moderate in that guild. */
export function moderatorRoles(configRoles: readonly string[], settings: GuildSettings | null): string[] {
  return [...new Set([...configRoles, ...(settings?.moderatorRoles ?? [])])];
}
