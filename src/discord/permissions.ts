// Who may do what. Discord's default_member_permissions only hides commands in the client (and server admins can
// change it), so every privileged action is checked again here when it runs.
import { PermissionFlagsBits } from 'discord.js';

/** What the checks need to know about a member, whatever shape discord.js handed over. */
export interface MemberAccess {
  userId: string;
  roleIds: readonly string[];
  permissions: bigint;
}

/**
 * The member shapes an interaction carries: a cached `GuildMember` (roles.cache, permissions.bitfield) or the raw
 * `APIInteractionGuildMember` (role id array, permissions as a decimal string).
 */
export type InteractionMemberLike =
  | { user: { id: string }; roles: readonly string[]; permissions: string }
  | { user: { id: string }; roles: { cache: { keys(): Iterable<string> } }; permissions: { bitfield: bigint } };

export interface ModeratorConfig {
  moderatorRoles: readonly string[];
}

function parsePermissions(value: string): bigint {
  // A malformed value grants nothing rather than throwing inside an interaction handler.
  return /^\d+$/.test(value) ? BigInt(value) : 0n;
}

/**
 * `channelPermissions` is `interaction.memberPermissions` (the member's permissions in the channel, overwrites
 * applied); without it the member's guild-level permissions are used. `null` member: a DM, where nobody moderates.
 */
export function memberAccess(
  member: InteractionMemberLike | null | undefined,
  channelPermissions?: { bitfield: bigint } | null,
): MemberAccess | null {
  if (!member) return null;
  const roleIds = Array.isArray(member.roles) ? [...member.roles] : [...(member.roles as { cache: { keys(): Iterable<string> } }).cache.keys()];
  const own = typeof member.permissions === 'string' ? parsePermissions(member.permissions) : member.permissions.bitfield;
  return { userId: member.user.id, roleIds, permissions: channelPermissions?.bitfield ?? own };
}

function has(access: MemberAccess, flag: bigint): boolean {
  return (access.permissions & flag) === flag;
}

/** Manage Server (or Administrator): may run `/comfy`. */
export function canAdmin(access: MemberAccess | null): boolean {
  if (!access) return false;
  return has(access, PermissionFlagsBits.Administrator) || has(access, PermissionFlagsBits.ManageGuild);
}

/** A configured moderator role, or server-level management rights: may cancel or delete anyone's job. */
export function isModerator(access: MemberAccess | null, config: ModeratorConfig): boolean {
  if (!access) return false;
  return canAdmin(access) || access.roleIds.some((role) => config.moderatorRoles.includes(role));
}

/** Where a job came from, for the checks of who may act on it. */
export interface JobPlace {
  ownerId: string;
  /** Null: submitted in a DM, where nobody moderates. */
  guildId: string | null;
}

/**
 * A moderator of the job's own server. A server's moderators control their server only, so the check needs the
 * server the member acts from to be the job's.
 */
export function moderatesJob(access: MemberAccess | null, actingGuildId: string | null, job: JobPlace, config: ModeratorConfig): boolean {
  return job.guildId !== null && actingGuildId === job.guildId && isModerator(access, config);
}

/** The owner, or a moderator of the job's server: may press Cancel or Delete on a job's card. */
export function mayControlJob(access: MemberAccess | null, userId: string, actingGuildId: string | null, job: JobPlace, config: ModeratorConfig): boolean {
  return userId === job.ownerId || moderatesJob(access, actingGuildId, job, config);
}
