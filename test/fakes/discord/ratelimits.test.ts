import { once } from 'node:events';
import { Client, GatewayIntentBits, type Interaction, type RESTOptions } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentRevision, type FakeDiscord, startFakeDiscord } from './index.js';
import { RateLimiter } from './rateLimits.js';
import { discordRequest } from '../../../src/discord/restRequest.js';

describe('RateLimiter', () => {
  it('opens a window on the first request, refuses past the limit and resets after windowMs', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter({ webhook: { limit: 2, windowMs: 2000 } }, () => now);
    expect(limiter.take('webhook', 'a').headers['x-ratelimit-remaining']).toBe('1');
    now += 500;
    const second = limiter.take('webhook', 'a');
    expect(second).toMatchObject({ allowed: true, retryAfter: 1.5 });
    expect(second.headers).toMatchObject({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '1.500', 'x-ratelimit-reset': '1002.000' });
    expect(limiter.take('webhook', 'a').allowed).toBe(false);
    expect(limiter.take('webhook', 'b').allowed).toBe(true);
    now += 1500;
    expect(limiter.take('webhook', 'a')).toMatchObject({ allowed: true, headers: { 'x-ratelimit-remaining': '1' } });
  });

  it('refuses nonsense configuration', () => {
    expect(() => new RateLimiter({ channel: { limit: 0, windowMs: 1000 } })).toThrow(/rateLimits.channel: limit must be >= 1/);
    expect(() => new RateLimiter({ webhook: { limit: 1, windowMs: 0 } })).toThrow(/windowMs > 0/);
  });
});

describe('discord.js against small buckets', () => {
  let discord: FakeDiscord;
  let client: Client;
  let handler: ((i: Interaction) => Promise<void>) | undefined;

  beforeAll(async () => {
    discord = await startFakeDiscord({ heartbeatIntervalMs: 500, rateLimits: { webhook: { limit: 2, windowMs: 300 } } });
    // the bot's transport, as in session.ts
    client = new Client({
      intents: [GatewayIntentBits.Guilds],
      rest: { api: discord.restUrl, offset: 0, makeRequest: discordRequest as unknown as RESTOptions['makeRequest'] },
    });
    client.on('interactionCreate', (i) => void handler?.(i));
    const ready = once(client, 'clientReady');
    await client.login(discord.token);
    await ready;
    await client.application!.commands.set([{ name: 'ping', description: 'Ping' }]);
  });

  afterAll(async () => {
    await client?.destroy();
    await discord?.close();
  });

  function run(fn: (i: Interaction) => Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the bot received no interaction within 5 s')), 5000);
      handler = (i) => {
        clearTimeout(timer);
        return fn(i).then(resolve, reject);
      };
    });
  }

  it('lets discord.js wait pre-emptively on Remaining 0: every queued edit lands in order, no 429', async () => {
    const done = run(async (i) => {
      if (!i.isChatInputCommand()) throw new Error('expected a command');
      await i.deferReply();
      await Promise.all([1, 2, 3, 4, 5].map((n) => i.editReply(`step ${n}`)));
    });
    const { token } = await discord.slash('ping');
    await done;
    expect(discord.originalFor(token)!.history.map((r) => r.content)).toEqual(['', 'step 1', 'step 2', 'step 3', 'step 4', 'step 5']);
    expect(discord.rateLimitHits).toEqual({});
    const patches = discord.requests.filter((r) => r.method === 'PATCH' && r.path.includes(token));
    expect(patches.every((r) => r.status === 200)).toBe(true);
  });

  it('survives a 5xx: discord.js retries and the edit lands', async () => {
    discord.faults.failNext({ method: 'PATCH', route: '/messages/@original', status: 502 });
    const done = run(async (i) => {
      if (!i.isChatInputCommand()) throw new Error('expected a command');
      await i.reply('first');
      await i.editReply('second');
    });
    const { token } = await discord.slash('ping');
    await done;
    expect(currentRevision(discord.originalFor(token)!).content).toBe('second');
    expect(discord.requests.filter((r) => r.method === 'PATCH' && r.path.includes(token)).map((r) => r.status)).toEqual([502, 200]);
  });
});
