import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeDiscord, startFakeDiscord } from './index.js';
import { RawGatewayClient } from './testGatewayClient.js';

let discord: FakeDiscord;
const clients: RawGatewayClient[] = [];

async function connect(): Promise<RawGatewayClient> {
  const client = await RawGatewayClient.connect(discord.gatewayUrl);
  clients.push(client);
  return client;
}

beforeAll(async () => {
  discord = await startFakeDiscord({ heartbeatIntervalMs: 250 });
});

afterAll(async () => {
  for (const client of clients) client.socket.terminate();
  await discord.close();
});

describe('fake gateway protocol', () => {
  it('says HELLO and acks heartbeats, even before IDENTIFY', async () => {
    const client = await connect();
    expect(await client.next((f) => f['op'] === 10)).toEqual({ op: 10, d: { heartbeat_interval: 250 } });
    client.send({ op: 1, d: null });
    expect(await client.next((f) => f['op'] === 11)).toEqual({ op: 11 });
  });

  it('answers IDENTIFY with READY then GUILD_CREATE, with growing sequence numbers', async () => {
    const client = await connect();
    const ready = await client.identify(discord.token);
    expect(ready).toMatchObject({
      user: { id: discord.botUserId, bot: true },
      application: { id: discord.applicationId, flags: 0 },
      guilds: [{ id: discord.guildId, unavailable: true }],
      resume_gateway_url: discord.gatewayUrl,
    });
    const guild = await client.dispatch('GUILD_CREATE');
    expect(guild['s']).toBe(2);
    expect(guild['d']).toMatchObject({
      id: discord.guildId,
      channels: [{ id: discord.channelId, type: 0, guild_id: discord.guildId, permission_overwrites: [] }],
      threads: [],
      soundboard_sounds: [],
    });
    const d = guild['d'] as { roles: Array<{ name: string }>; members: Array<{ user: { id: string } }> };
    expect(d.roles.map((r) => r.name)).toEqual(['@everyone', 'Moderator', 'Member']);
    expect(d.members.map((m) => m.user.id)).toContain(discord.botUserId);
  });

  it('closes with 4004 on a wrong token and 4013 without intents', async () => {
    const wrong = await connect();
    const wrongClosed = wrong.closed();
    wrong.send({ op: 2, d: { token: 'not-the-token', intents: 1 } });
    expect((await wrongClosed).code).toBe(4004);
    const noIntents = await connect();
    const noIntentsClosed = noIntents.closed();
    noIntents.send({ op: 2, d: { token: discord.token } });
    expect((await noIntentsClosed).code).toBe(4013);
  });

  it('closes with 4002 on undecodable frames and 4001 on unknown opcodes', async () => {
    const garbage = await connect();
    const garbageClosed = garbage.closed();
    garbage.socket.send('{not json');
    expect((await garbageClosed).code).toBe(4002);
    const unknown = await connect();
    const unknownClosed = unknown.closed();
    unknown.send({ op: 42, d: null });
    expect((await unknownClosed).code).toBe(4001);
  });

  it('resumes a session, replaying dispatches after seq, and invalidates unknown sessions', async () => {
    const first = await connect();
    const ready = await first.identify(discord.token);
    await first.dispatch('GUILD_CREATE');
    const firstClosed = first.closed();
    first.socket.close(4000);
    await firstClosed;
    const second = await connect();
    second.send({ op: 6, d: { token: discord.token, session_id: ready['session_id'], seq: 1 } });
    const replayed = await second.dispatch('GUILD_CREATE');
    expect(replayed['s']).toBe(2);
    expect((await second.dispatch('RESUMED'))['s']).toBe(3);

    const stranger = await connect();
    stranger.send({ op: 6, d: { token: discord.token, session_id: 'no-such-session', seq: 0 } });
    expect(await stranger.next((f) => f['op'] === 9)).toEqual({ op: 9, d: false });
  });

  it('sends op 7 and op 9 on request', async () => {
    const client = await connect();
    await client.identify(discord.token);
    discord.gateway.reconnect();
    expect(await client.next((f) => f['op'] === 7)).toEqual({ op: 7, d: null });
    discord.gateway.invalidSession();
    expect(await client.next((f) => f['op'] === 9)).toEqual({ op: 9, d: false });
    expect(discord.gateway.identifies.length).toBeGreaterThan(0);
  });

  it('stops acking heartbeats when told to', async () => {
    const client = await connect();
    await client.identify(discord.token);
    discord.gateway.stopAcking();
    client.send({ op: 1, d: 1 });
    client.send({ op: 3, d: null }); // a presence update: accepted and ignored, so the socket stays open
    // The server handles frames in order, so once our ping's pong is back any ack would have arrived too.
    const pong = new Promise<void>((resolve) => client.socket.once('pong', () => resolve()));
    client.socket.ping();
    await pong;
    expect(client.frames.filter((f) => f['op'] === 11)).toHaveLength(0);
  });

  it('refuses nonsense options before opening a port', async () => {
    await expect(startFakeDiscord({ attachmentSizeLimit: 0 })).rejects.toThrow(/attachmentSizeLimit must be > 0/);
    await expect(startFakeDiscord({ heartbeatIntervalMs: -1 })).rejects.toThrow(/heartbeatIntervalMs must be > 0/);
    await expect(startFakeDiscord({ rateLimits: { webhook: { limit: 0, windowMs: 1 } } })).rejects.toThrow(/rateLimits.webhook/);
    await expect(startFakeDiscord({ guilds: [{ channels: [] }] })).rejects.toThrow(/at least one guild with at least one channel/);
  });

  it('holds an interaction until a bot identifies, and times out with a clear message when none does', async () => {
    const lonely = await startFakeDiscord({ dispatchTimeoutMs: 50 });
    const bot = await RawGatewayClient.connect(lonely.gatewayUrl);
    try {
      const put = await fetch(`${lonely.restUrl}/v10/applications/${lonely.applicationId}/commands`, {
        method: 'PUT',
        headers: { authorization: `Bot ${lonely.token}`, 'content-type': 'application/json' },
        body: JSON.stringify([{ name: 'ping', description: 'Ping' }]),
      });
      expect(put.status).toBe(200);
      await expect(lonely.slash('ping')).rejects.toThrow(/no connected session after 50 ms \(is the bot logged in\?\)/);
      await expect(lonely.slash('pong')).rejects.toThrow(/\/pong is not registered/);

      const pending = lonely.slash('ping');
      await bot.identify(lonely.token);
      const { id } = await pending;
      const interaction = await bot.dispatch('INTERACTION_CREATE');
      expect(interaction['d']).toMatchObject({ id, type: 2, data: { name: 'ping' }, entitlements: [], authorizing_integration_owners: { '0': lonely.guildId } });
    } finally {
      bot.socket.terminate();
      await lonely.close();
    }
  });
});
