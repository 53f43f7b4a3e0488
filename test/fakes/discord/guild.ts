import type { SnowflakeFactory } from './ids.js';

/** Permission bits the fake computes with (Discord's values). */
export const Permissions = {
  KickMembers: 1n << 1n,
  Administrator: 1n << 3n,
  ManageGuild: 1n << 5n,
  AddReactions: 1n << 6n,
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  ManageMessages: 1n << 13n,
  EmbedLinks: 1n << 14n,
  AttachFiles: 1n << 15n,
  ReadMessageHistory: 1n << 16n,
  UseApplicationCommands: 1n << 31n,
} as const;

const ALL_PERMISSIONS = (1n << 53n) - 1n;

const EVERYONE_DEFAULT =
  Permissions.ViewChannel |
  Permissions.SendMessages |
  Permissions.EmbedLinks |
  Permissions.AttachFiles |
  Permissions.ReadMessageHistory |
  Permissions.AddReactions |
  Permissions.UseApplicationCommands;

export interface FakeUser {
  id: string;
  username: string;
  bot: boolean;
}

export interface FakeRole {
  id: string;
  name: string;
  permissions: bigint;
  position: number;
}

export interface FakeMember {
  user: FakeUser;
  /** Role ids, @everyone excluded (as in Discord's member objects). */
  roles: string[];
  joinedAt: number;
  /** When set, interactions report these permissions instead of the computed ones. */
  permissionsOverride?: bigint;
}

export interface FakeChannel {
  id: string;
  guildId: string;
  name: string;
  position: number;
  /** Permissions denied to the bot by a member overwrite in this channel. */
  botDeny: bigint;
}

export interface FakeGuild {
  id: string;
  name: string;
  roles: FakeRole[];
  channels: FakeChannel[];
  members: Map<string, FakeMember>;
  joinedAt: number;
  /** A person, never the bot (discord.js refuses to leave a guild its own user owns). */
  ownerId: string;
}

/** A DM channel between the bot and one user (opened by the bot, or where a user invoked a DM-enabled command). */
export interface DmChannel {
  id: string;
  recipient: FakeUser;
}

export interface GuildSpec {
  id?: string;
  name?: string;
  /** The guild owner's user id (default: a fresh id; the owner need not be a member the fake knows). */
  ownerId?: string;
  /** Extra roles beside @everyone; default: 'Moderator' and 'Member'. */
  roles?: Array<{ id?: string; name: string; permissions?: bigint }>;
  /** Default: one text channel 'general'. `botDeny` adds a member overwrite denying those bits to the bot. */
  channels?: Array<{ id?: string; name?: string; botDeny?: bigint }>;
}

export interface MemberSpec {
  id: string;
  username?: string;
  /** Role ids or role names. */
  roles?: string[];
  permissions?: bigint;
  guildId?: string;
}

export function buildGuild(spec: GuildSpec, bot: FakeUser, ids: SnowflakeFactory, now: number): FakeGuild {
  const id = spec.id ?? ids.next();
  const extraRoles = spec.roles ?? [
    { name: 'Moderator', permissions: Permissions.ManageMessages | Permissions.ManageGuild | Permissions.KickMembers },
    { name: 'Member', permissions: 0n },
  ];
  const roles: FakeRole[] = [
    { id, name: '@everyone', permissions: EVERYONE_DEFAULT, position: 0 },
    ...extraRoles.map((role, index) => ({
      id: role.id ?? ids.next(),
      name: role.name,
      permissions: role.permissions ?? 0n,
      position: index + 1,
    })),
  ];
  const channels = (spec.channels ?? [{ name: 'general' }]).map((channel, index) => ({
    id: channel.id ?? ids.next(),
    guildId: id,
    name: channel.name ?? `channel-${index + 1}`,
    position: index,
    botDeny: channel.botDeny ?? 0n,
  }));
  const guild: FakeGuild = { id, name: spec.name ?? 'Fake Guild', roles, channels, members: new Map(), joinedAt: now, ownerId: spec.ownerId ?? ids.next() };
  guild.members.set(bot.id, { user: bot, roles: [], joinedAt: now });
  return guild;
}

/** Role names or ids → role ids, failing loudly on a typo. */
export function resolveRoles(guild: FakeGuild, refs: readonly string[]): string[] {
  return refs.map((ref) => {
    const role = guild.roles.find((r) => r.id === ref || r.name === ref);
    if (!role) throw new Error(`fake Discord: guild ${guild.id} has no role '${ref}' (roles: ${guild.roles.map((r) => r.name).join(', ')})`);
    return role.id;
  });
}

export function addMemberTo(guild: FakeGuild, spec: MemberSpec, now: number): FakeMember {
  const roles = resolveRoles(guild, spec.roles ?? []);
  const member: FakeMember = {
    user: { id: spec.id, username: spec.username ?? `user-${spec.id}`, bot: false },
    roles,
    joinedAt: now,
    ...(spec.permissions === undefined ? {} : { permissionsOverride: spec.permissions }),
  };
  guild.members.set(spec.id, member);
  return member;
}

/** Discord's permission algorithm: base from roles, Administrator wins, then channel overwrites. */
export function permissionsIn(guild: FakeGuild, member: FakeMember, channel: FakeChannel | undefined): bigint {
  let base = 0n;
  for (const role of guild.roles) {
    if (role.id === guild.id || member.roles.includes(role.id)) base |= role.permissions;
  }
  if (base & Permissions.Administrator) return ALL_PERMISSIONS;
  if (channel && member.user.bot) base &= ~channel.botDeny;
  return base;
}

export function apiUser(user: FakeUser): Record<string, unknown> {
  return {
    id: user.id,
    username: user.username,
    discriminator: '0',
    global_name: user.bot ? null : user.username,
    avatar: null,
    bot: user.bot,
    system: false,
    flags: 0,
    public_flags: 0,
  };
}

export function apiMember(member: FakeMember, permissions?: bigint): Record<string, unknown> {
  return {
    user: apiUser(member.user),
    nick: null,
    avatar: null,
    roles: member.roles,
    joined_at: new Date(member.joinedAt).toISOString(),
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0,
    pending: false,
    communication_disabled_until: null,
    ...(permissions === undefined ? {} : { permissions: permissions.toString() }),
  };
}

export function apiChannel(channel: FakeChannel, botId: string): Record<string, unknown> {
  return {
    id: channel.id,
    type: 0,
    guild_id: channel.guildId,
    name: channel.name,
    position: channel.position,
    parent_id: null,
    topic: null,
    nsfw: false,
    last_message_id: null,
    rate_limit_per_user: 0,
    permission_overwrites:
      channel.botDeny === 0n ? [] : [{ id: botId, type: 1, allow: '0', deny: channel.botDeny.toString() }],
  };
}

function apiRole(role: FakeRole): Record<string, unknown> {
  return {
    id: role.id,
    name: role.name,
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position: role.position,
    permissions: role.permissions.toString(),
    managed: false,
    mentionable: false,
    flags: 0,
  };
}

/** The GUILD_CREATE payload, with every array discord.js iterates present (see discord-notes §1.3). */
export function apiGuildCreate(guild: FakeGuild, botId: string): Record<string, unknown> {
  return {
    id: guild.id,
    name: guild.name,
    icon: null,
    splash: null,
    discovery_splash: null,
    owner_id: guild.ownerId,
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    mfa_level: 0,
    nsfw_level: 0,
    premium_tier: 0,
    premium_subscription_count: 0,
    preferred_locale: 'en-US',
    system_channel_id: null,
    system_channel_flags: 0,
    rules_channel_id: null,
    public_updates_channel_id: null,
    features: [],
    large: false,
    unavailable: false,
    member_count: guild.members.size,
    joined_at: new Date(guild.joinedAt).toISOString(),
    roles: guild.roles.map(apiRole),
    channels: guild.channels.map((c) => apiChannel(c, botId)),
    members: [...guild.members.values()].map((m) => apiMember(m)),
    threads: [],
    presences: [],
    voice_states: [],
    emojis: [],
    stickers: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

export function apiDmChannel(dm: DmChannel): Record<string, unknown> {
  return { id: dm.id, type: 1, last_message_id: null, flags: 0, recipients: [apiUser(dm.recipient)] };
}

/** Discord's shard routing: (guild_id >> 22) % shard_count; DMs always go to shard 0. */
export function shardFor(guildId: string | undefined, shardCount: number): number {
  return guildId === undefined ? 0 : Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

export function findUser(guilds: readonly FakeGuild[], id: string): FakeUser | undefined {
  for (const guild of guilds) {
    const member = guild.members.get(id);
    if (member) return member.user;
  }
  return undefined;
}

/** The bot's DM channel with `user`, opened on first use (Discord returns the same channel every time). */
export function dmChannelWith(dmChannels: Map<string, DmChannel>, user: FakeUser, newId: () => string): DmChannel {
  let dm = [...dmChannels.values()].find((c) => c.recipient.id === user.id);
  if (!dm) {
    dm = { id: newId(), recipient: user };
    dmChannels.set(dm.id, dm);
  }
  return dm;
}
