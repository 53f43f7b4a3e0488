import { afterEach, describe, expect, it } from 'vitest';
import { startFakeDiscord, type ApplicationSpec, type FakeDiscord } from './index.js';
import { RawGatewayClient } from './testGatewayClient.js';

let discord: FakeDiscord | undefined;
let bot: RawGatewayClient | undefined;

afterEach(async () => {
  bot?.socket.terminate();
  await discord?.close();
  bot = undefined;
  discord = undefined;
});

async function start(application?: ApplicationSpec): Promise<FakeDiscord> {
  discord = await startFakeDiscord(application ? { application } : {});
  return discord;
}

async function api(d: FakeDiscord, method: string, path: string) {
  const res = await fetch(`${d.restUrl}/v10${path}`, { method, headers: { authorization: `Bot ${d.token}` } });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, any> };
}

describe('GET /applications/@me', () => {
  it('names the owning user, with no team', async () => {
    const d = await start({ owner: { id: '9001', username: 'alice' } });
    const { status, body } = await api(d, 'GET', '/applications/@me');
    expect(status).toBe(200);
    expect(body['id']).toBe(d.applicationId);
    expect(body['owner']).toMatchObject({ id: '9001', username: 'alice' });
    expect(body['team']).toBeNull();
    expect(d.ownerId).toBe('9001');
  });

  it('a team-owned application: owner is the team pseudo-user, members carry role and membership state', async () => {
    const d = await start({ team: { id: '7000', ownerId: '7001', members: [{ id: '7002', role: 'developer' }, { id: '7003', state: 'invited' }] } });
    const { body } = await api(d, 'GET', '/applications/@me');
    expect(body['owner']).toMatchObject({ id: '7000', flags: 1 << 10 });
    expect(body['team']['owner_user_id']).toBe('7001');
    const members = (body['team']['members'] as Record<string, any>[]).map((m) => [m['user']['id'], m['role'], m['membership_state']]);
    expect(members).toEqual([
      ['7001', 'admin', 2],
      ['7002', 'developer', 2],
      ['7003', 'developer', 1],
    ]);
    expect(d.ownerId).toBe('7001');
  });
});

describe('guild membership', () => {
  it('DELETE /users/@me/guilds/:guild leaves the guild (204, then GUILD_DELETE); a second time is 404 Unknown Guild', async () => {
    const d = await start();
    bot = await RawGatewayClient.connect(d.gatewayUrl);
    await bot.identify(d.token);
    const left = await api(d, 'DELETE', `/users/@me/guilds/${d.guildId}`);
    expect(left.status).toBe(204);
    const frame = await bot.next((f) => f['t'] === 'GUILD_DELETE');
    expect(frame['d']).toEqual({ id: d.guildId });
    expect(d.guildIds).toEqual([]);
    const again = await api(d, 'DELETE', `/users/@me/guilds/${d.guildId}`);
    expect(again).toMatchObject({ status: 404, body: { code: 10004 } });
  });

  it('addGuild sends GUILD_CREATE for the new guild to the connected bot', async () => {
    const d = await start();
    bot = await RawGatewayClient.connect(d.gatewayUrl);
    await bot.identify(d.token);
    const added = await d.addGuild({ name: 'Second' });
    const frame = await bot.next((f) => f['t'] === 'GUILD_CREATE' && (f['d'] as Record<string, unknown>)['id'] === added.id);
    expect((frame['d'] as Record<string, unknown>)['name']).toBe('Second');
    expect(d.guildIds).toEqual([d.guildId, added.id]);
  });
});
