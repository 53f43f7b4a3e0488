import { GuildMemberManager, LimitedCollection, MessageManager, RoleManager, ChannelManager } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { botCacheFactory } from './clientCaches.js';

const cacheOf = (manager: unknown) => (botCacheFactory() as unknown as (type: unknown, holds: unknown, manager: unknown) => Map<string, unknown>)(manager, undefined, manager);

describe('the caches discord.js keeps for the bot', () => {
  it('keeps no messages and no members but its own', () => {
    const messages = cacheOf(MessageManager);
    expect(messages).toBeInstanceOf(LimitedCollection);
    expect((messages as LimitedCollection<string, unknown>).maxSize).toBe(0);
    const members = cacheOf(GuildMemberManager) as LimitedCollection<string, { id: string; client: { user: { id: string } } }>;
    expect(members.maxSize).toBe(0);
    const client = { user: { id: 'bot' } };
    members.set('bot', { id: 'bot', client });
    members.set('someone', { id: 'someone', client });
    expect([...members.keys()]).toEqual(['bot']);
  });

  it('keeps roles and channels whole: permission checks read a member\'s roles through the role cache', () => {
    expect(cacheOf(RoleManager)).not.toBeInstanceOf(LimitedCollection);
    expect(cacheOf(ChannelManager)).not.toBeInstanceOf(LimitedCollection);
  });
});

