import { describe, expect, expectTypeOf, it } from 'vitest';
import { PermissionFlagsBits, type APIInteractionGuildMember, type GuildMember } from 'discord.js';
import { canAdmin, isModerator, mayControlJob, memberAccess, type InteractionMemberLike } from './permissions.js';

const config = { moderatorRoles: ['mod-role'] };
const apiMember = (permissions: bigint | string, roles: string[] = []) => ({
  user: { id: 'u1' },
  roles,
  permissions: typeof permissions === 'bigint' ? permissions.toString() : permissions,
});
const cachedMember = (permissions: bigint, roles: string[] = []) => ({
  user: { id: 'u2' },
  roles: { cache: new Map(roles.map((r) => [r, {}])) },
  permissions: { bitfield: permissions },
});

describe('memberAccess', () => {
  it('accepts both member types an interaction carries', () => {
    expectTypeOf<GuildMember>().toExtend<InteractionMemberLike>();
    expectTypeOf<APIInteractionGuildMember>().toExtend<InteractionMemberLike>();
  });

  it('reads raw interaction members and cached GuildMembers alike', () => {
    expect(memberAccess(apiMember(PermissionFlagsBits.ManageGuild, ['r1']))).toEqual({
      userId: 'u1',
      roleIds: ['r1'],
      permissions: PermissionFlagsBits.ManageGuild,
    });
    expect(memberAccess(cachedMember(8n, ['r2', 'r3']))).toEqual({ userId: 'u2', roleIds: ['r2', 'r3'], permissions: 8n });
  });

  it('prefers the channel permissions of the interaction', () => {
    expect(memberAccess(apiMember(PermissionFlagsBits.ManageGuild), { bitfield: 0n })?.permissions).toBe(0n);
  });

  it('grants nothing for a malformed permission string, and nothing in DMs', () => {
    expect(memberAccess(apiMember('12abc'))?.permissions).toBe(0n);
    expect(memberAccess(null)).toBeNull();
    expect(canAdmin(null)).toBe(false);
    expect(isModerator(null, config)).toBe(false);
  });
});

describe('canAdmin and isModerator', () => {
  const plain = memberAccess(apiMember(PermissionFlagsBits.SendMessages, ['other']));
  const manager = memberAccess(apiMember(PermissionFlagsBits.ManageGuild | PermissionFlagsBits.SendMessages));
  const admin = memberAccess(apiMember(PermissionFlagsBits.Administrator));
  const moderator = memberAccess(apiMember(0n, ['mod-role']));

  it('lets Manage Server and Administrator administer, nobody else', () => {
    expect(canAdmin(manager)).toBe(true);
    expect(canAdmin(admin)).toBe(true);
    expect(canAdmin(moderator)).toBe(false);
    expect(canAdmin(plain)).toBe(false);
  });

  it('counts moderator roles and server managers as moderators', () => {
    expect(isModerator(moderator, config)).toBe(true);
    expect(isModerator(manager, config)).toBe(true);
    expect(isModerator(admin, config)).toBe(true);
    expect(isModerator(plain, config)).toBe(false);
    expect(isModerator(moderator, { moderatorRoles: [] })).toBe(false);
  });

  it('lets the owner or a moderator control a job', () => {
    const job = (ownerId: string, guildId: string | null = 'g1') => ({ ownerId, guildId });
    expect(mayControlJob(plain, 'u1', 'g1', job('u1'), config)).toBe(true);
    expect(mayControlJob(plain, 'u1', 'g1', job('someone-else'), config)).toBe(false);
    expect(mayControlJob(moderator, 'u1', 'g1', job('someone-else'), config)).toBe(true);
    expect(mayControlJob(null, 'u1', 'g1', job('someone-else'), config)).toBe(false);
    // A moderator's powers stop at their own server, and nobody moderates a DM job.
    expect(mayControlJob(moderator, 'u1', 'g2', job('someone-else'), config)).toBe(false);
    expect(mayControlJob(moderator, 'u1', 'g1', job('someone-else', null), config)).toBe(false);
    expect(mayControlJob(plain, 'u1', null, job('u1', 'g1'), config)).toBe(true);
  });
});
