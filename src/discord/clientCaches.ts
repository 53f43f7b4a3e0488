// What discord.js keeps in memory for the bot. By default it caches every message it sends or edits (200 per
// channel), every member and user an interaction names, and each server's emojis, stickers and stage instances;
// the bot reads none of them (cards are edited by id, members come with each interaction, DMs go through the
// channel cache). Kept: guilds, channels and roles (a member's roles are resolved through the role cache), and the
// bot's own user and member.
import { Options, type CacheFactory } from 'discord.js';

const onlyOwn = <T extends { id: string; client: { user: { id: string } | null } }>() => ({
  maxSize: 0,
  keepOverLimit: (value: T) => value.id === value.client.user?.id,
});

export function botCacheFactory(): CacheFactory {
  return Options.cacheWithLimits({
    MessageManager: 0,
    GuildMemberManager: onlyOwn(),
    UserManager: onlyOwn(),
    GuildEmojiManager: 0,
    GuildStickerManager: 0,
    StageInstanceManager: 0,
    ReactionManager: 0,
    PresenceManager: 0,
    VoiceStateManager: 0,
  });
}
