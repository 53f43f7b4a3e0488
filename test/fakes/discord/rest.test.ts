import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeDiscord, MessageFlags, Permissions, startFakeDiscord } from './index.js';
import { RawGatewayClient } from './testGatewayClient.js';

let discord: FakeDiscord;
let bot: RawGatewayClient;

type Body = Record<string, any>;

async function api(method: string, path: string, init: { json?: unknown; form?: FormData; auth?: boolean | string } = {}) {
  const headers: Record<string, string> = {};
  if (init.auth !== false) headers['authorization'] = typeof init.auth === 'string' ? init.auth : `Bot ${discord.token}`;
  let body: FormData | string | undefined;
  if (init.form) body = init.form;
  else if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = typeof init.json === 'string' ? init.json : JSON.stringify(init.json);
  }
  const res = await fetch(`${discord.restUrl}/v10${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as Body };
}

/** Dispatches /name and returns the interaction the (raw) bot received. */
async function invoke(name: string, options: Record<string, string | number | boolean> = {}, extra = {}) {
  const { id, token } = await discord.slash(name, options, extra);
  const frame = await bot.next((f) => f['t'] === 'INTERACTION_CREATE' && (f['d'] as Body)['id'] === id);
  return { id, token, payload: frame['d'] as Body };
}

const callback = (id: string, token: string, body: unknown, query = '') =>
  api('POST', `/interactions/${id}/${token}/callback${query}`, { json: body, auth: false });
const webhook = (method: string, token: string, rest = '', json?: unknown) =>
  api(method, `/webhooks/${discord.applicationId}/${token}${rest}`, { json, auth: false });

beforeAll(async () => {
  discord = await startFakeDiscord({
    rateLimits: { channel: { limit: 1000, windowMs: 1000 }, webhook: { limit: 1000, windowMs: 1000 } },
    guilds: [{ channels: [{ name: 'general' }, { name: 'readonly', botDeny: Permissions.SendMessages }] }],
  });
  bot = await RawGatewayClient.connect(discord.gatewayUrl);
  await bot.identify(discord.token);
  const put = await api('PUT', `/applications/${discord.applicationId}/commands`, {
    json: [
      { name: 'ping', description: 'Ping' },
      { name: 'serveronly', description: 'Not in DMs', contexts: [0] },
      {
        name: 'upscale',
        description: 'Upscale an image',
        options: [
          { name: 'image', description: 'The image', type: 11, required: true },
          { name: 'factor', description: 'Factor', type: 10 },
        ],
      },
      {
        name: 'queue',
        description: 'Queue admin',
        options: [{ name: 'clear', description: 'Clear', type: 1, options: [{ name: 'user', description: 'Whose', type: 3 }] }],
      },
    ],
  });
  expect(put.status).toBe(200);
});

afterAll(async () => {
  bot.socket.terminate();
  await discord.close();
});

describe('REST routing and auth', () => {
  it('answers unknown routes with 404, wrong methods with 405 and non-API paths with 404', async () => {
    expect(await api('GET', '/nothing/here')).toMatchObject({ status: 404, body: { code: 0, message: '404: Not Found' } });
    expect(await api('POST', '/gateway/bot')).toMatchObject({ status: 405, body: { code: 0 } });
    expect((await fetch(`${discord.restUrl.replace('/api', '')}/elsewhere`)).status).toBe(404);
  });

  it('requires the bot token on bot routes only', async () => {
    expect(await api('GET', `/channels/${discord.channelId}`, { auth: false })).toMatchObject({ status: 401, body: { message: '401: Unauthorized' } });
    expect((await api('GET', `/channels/${discord.channelId}`, { auth: 'Bot wrong' })).status).toBe(401);
    expect(await api('GET', `/channels/${discord.channelId}`)).toMatchObject({ status: 200, body: { id: discord.channelId, type: 0 } });
    expect(discord.requests.at(-1)).toMatchObject({ method: 'GET', route: 'GET /channels/:channel', auth: 'bot', status: 200 });
  });

  it('rejects malformed JSON with 50109 and unknown channels with 10003', async () => {
    expect(await api('POST', `/channels/${discord.channelId}/messages`, { json: '{oops' })).toMatchObject({ status: 400, body: { code: 50109 } });
    expect(await api('POST', '/channels/123/messages', { json: { content: 'x' } })).toMatchObject({ status: 404, body: { code: 10003 } });
  });

  it('serves GET /gateway/bot in the shape discord.js needs', async () => {
    const res = await api('GET', '/gateway/bot');
    expect(res.body).toEqual({
      url: discord.gatewayUrl,
      shards: 1,
      session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
    });
  });
});

describe('message limits', () => {
  const post = (json: unknown) => api('POST', `/channels/${discord.channelId}/messages`, { json });

  it('enforces content, embed and component limits with nested 50035 errors', async () => {
    const content = await post({ content: 'x'.repeat(2001) });
    expect(content).toMatchObject({ status: 400, body: { code: 50035, errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH' }] } } } });
    expect((await post({ embeds: [{ title: 't'.repeat(257) }] })).body.errors.embeds['0'].title._errors).toHaveLength(1);
    expect((await post({ embeds: [{ description: 'd'.repeat(4097) }] })).body.errors.embeds['0'].description).toBeDefined();
    const fields = Array.from({ length: 26 }, () => ({ name: 'n', value: 'v' }));
    expect((await post({ embeds: [{ fields }] })).body.errors.embeds['0'].fields).toBeDefined();
    const big = Array.from({ length: 2 }, () => ({ description: 'd'.repeat(3001) }));
    expect((await post({ embeds: big })).body.errors.embeds._errors[0].code).toBe('MESSAGE_EMBEDS_TOO_LONG');
    const rows = Array.from({ length: 6 }, (_, i) => ({ type: 1, components: [{ type: 2, style: 1, label: 'b', custom_id: `b${i}` }] }));
    expect((await post({ content: 'x', components: rows })).body.errors.components).toBeDefined();
    const dupes = [{ type: 1, components: [{ type: 2, style: 1, label: 'a', custom_id: 'same' }, { type: 2, style: 1, label: 'b', custom_id: 'same' }] }];
    expect((await post({ content: 'x', components: dupes })).body.errors.components['0'].components['1'].custom_id).toBeDefined();
    expect(await post({})).toMatchObject({ status: 400, body: { code: 50006 } });
    expect(await post({ content: 'x'.repeat(2000) })).toMatchObject({ status: 200 });
  });

  it('accepts at most 10 attachments (30015) and logs every multipart file', async () => {
    const form = new FormData();
    form.append('payload_json', JSON.stringify({ content: 'many', attachments: Array.from({ length: 11 }, (_, id) => ({ id })) }));
    for (let n = 0; n < 11; n++) form.append(`files[${n}]`, new Blob([Buffer.from([n])], { type: 'image/png' }), `f${n}.png`);
    const res = await api('POST', `/channels/${discord.channelId}/messages`, { form });
    expect(res).toMatchObject({ status: 400, body: { code: 30015 } });
    expect(discord.requests.at(-1)!.files).toHaveLength(11);
    expect(discord.requests.at(-1)!.files[3]).toEqual({ field: 'files[3]', name: 'f3.png', size: 1, type: 'image/png' });
  });

  it('uses attachment metadata (filename, description) from payload_json', async () => {
    const form = new FormData();
    form.append('payload_json', JSON.stringify({ attachments: [{ id: 0, filename: 'renamed.png', description: 'alt text' }] }));
    form.append('files[0]', new Blob([Buffer.from('abc')], { type: 'image/png' }), 'orig.png');
    const res = await api('POST', `/channels/${discord.channelId}/messages`, { form });
    expect(res.body.attachments[0]).toMatchObject({ filename: 'renamed.png', description: 'alt text', size: 3, content_type: 'image/png' });
    const bytes = await fetch(res.body.attachments[0].url);
    expect(await bytes.text()).toBe('abc');
  });

  it('refuses unknown attachment ids on edit and unknown message ids', async () => {
    const created = await post({ content: 'x' });
    const edit = await api('PATCH', `/channels/${discord.channelId}/messages/${created.body.id}`, { json: { attachments: [{ id: '999' }] } });
    expect(edit).toMatchObject({ status: 400, body: { code: 50035, errors: { attachments: { _errors: [{ code: 'ATTACHMENT_NOT_FOUND' }] } } } });
    expect(await api('PATCH', `/channels/${discord.channelId}/messages/1`, { json: { content: 'y' } })).toMatchObject({ status: 404, body: { code: 10008 } });
    expect(await api('GET', `/channels/${discord.channelId}/messages/${created.body.id}`)).toMatchObject({ status: 200, body: { content: 'x', edited_timestamp: null } });
  });

  it('returns 403 50013 when a channel denies the bot Send Messages', async () => {
    const readonly = discord.guild().channels[1]!.id;
    expect(await api('POST', `/channels/${readonly}/messages`, { json: { content: 'x' } })).toMatchObject({ status: 403, body: { code: 50013 } });
  });
});

describe('interaction callbacks and webhooks', () => {
  it('builds complete payloads, including user uploads served over HTTP', async () => {
    const { payload } = await invoke('upscale', { factor: 2 }, { attachments: [{ name: 'in.png', bytes: Buffer.from('img'), contentType: 'image/png' }] });
    expect(payload).toMatchObject({
      version: 1,
      channel: { id: discord.channelId, type: 0 },
      member: { user: { id: discord.userId } },
      attachment_size_limit: 10 * 1024 * 1024,
      data: { name: 'upscale', type: 1 },
    });
    const option = payload['data'].options.find((o: Body) => o['name'] === 'image');
    const resolved = payload['data'].resolved.attachments[option.value];
    expect(await (await fetch(resolved.url)).text()).toBe('img');
    expect((await fetch(resolved.url.replace(/\/[^/]+$/, '/wrong.png'))).status).toBe(404);
    discord.faults.failNext({ route: '/attachments/', status: 503 });
    expect((await fetch(resolved.url)).status).toBe(503);
    expect(discord.requests.at(-1)).toMatchObject({ route: 'GET /attachments/:id/:name', status: 503, auth: 'none' });
    expect(BigInt(payload['app_permissions']) & Permissions.SendMessages).toBe(Permissions.SendMessages);
  });

  it('nests subcommand options and checks options against the registered definition', async () => {
    const { payload } = await invoke('queue clear', { user: 'bob' });
    expect(payload['data'].options).toEqual([{ name: 'clear', type: 1, options: [{ name: 'user', type: 3, value: 'bob' }] }]);
    await expect(discord.slash('upscale', { factor: 2 })).rejects.toThrow(/required option\(s\) missing: image/);
    await expect(discord.slash('upscale', { factor: 'two' })).rejects.toThrow(/option 'factor' \(type 10\) cannot take "two"/);
    await expect(discord.slash('ping', { nope: 1 })).rejects.toThrow(/no option 'nope'/);
    await expect(discord.slash('queue purge')).rejects.toThrow(/'purge' is not a registered subcommand/);
    await expect(discord.slash('ping', {}, { userId: '42' })).rejects.toThrow(/user 42 is not a member/);
    await expect(discord.slash('ping', {}, { roles: ['Wizard'] })).rejects.toThrow(/no role 'Wizard'/);
    await expect(discord.slash('serveronly', {}, { dm: true })).rejects.toThrow(/\/serveronly is not offered in DMs/);
    await expect(discord.slash('ping', {}, { dm: true, userId: '43' })).rejects.toThrow(/user 43 is not a member of any guild/);
  });

  it('reports roles and permissions of added members', async () => {
    discord.addMember({ id: '777', username: 'mod', roles: ['Moderator'] });
    const { payload } = await invoke('ping', {}, { userId: '777' });
    expect(payload['member'].roles).toEqual([discord.guild().roles.find((r) => r.name === 'Moderator')!.id]);
    expect(BigInt(payload['member'].permissions) & Permissions.ManageMessages).toBe(Permissions.ManageMessages);
    const { payload: asMember } = await invoke('ping', {}, { userId: '777', roles: ['Member'] });
    expect(BigInt(asMember['member'].permissions) & Permissions.ManageMessages).toBe(0n);
  });

  it('rejects unknown interactions (10062) and callback types that do not fit (50035)', async () => {
    expect(await callback('1', 'nope', { type: 4, data: { content: 'x' } })).toMatchObject({ status: 404, body: { code: 10062 } });
    const { id, token } = await invoke('ping');
    expect(await callback(id, token, { type: 8, data: { choices: [] } })).toMatchObject({ status: 400, body: { code: 50035 } });
    expect(await callback(id, token, { type: 7, data: { content: 'x' } })).toMatchObject({ status: 400, body: { code: 50035 } });
    expect(await callback(id, token, { type: 9, data: { title: 't' } })).toMatchObject({ status: 400, body: { errors: { data: { custom_id: {}, components: {} } } } });
    expect((await callback(id, token, { type: 4, data: { content: 'ok' } })).status).toBe(204);
  });

  it('answers with_response=true with the interaction callback resource', async () => {
    const { id, token } = await invoke('ping');
    const res = await callback(id, token, { type: 5, data: { flags: MessageFlags.Ephemeral } }, '?with_response=true');
    expect(res).toMatchObject({
      status: 200,
      body: { interaction: { id, type: 2, response_message_loading: true, response_message_ephemeral: true }, resource: { type: 5, message: { type: 20, flags: MessageFlags.Ephemeral | MessageFlags.Loading } } },
    });
    const msgId = res.body.resource.message.id;
    expect(await api('GET', `/channels/${discord.channelId}/messages/${msgId}`)).toMatchObject({ status: 404, body: { code: 10008 } });
  });

  it('guards webhook routes: unknown token 50027, wrong app or no response yet 10015, foreign message 10008', async () => {
    expect(await webhook('PATCH', 'no-such-token', '/messages/@original', { content: 'x' })).toMatchObject({ status: 401, body: { code: 50027 } });
    const { id, token } = await invoke('ping');
    expect(await webhook('PATCH', token, '/messages/@original', { content: 'x' })).toMatchObject({ status: 404, body: { code: 10015 } });
    expect(await api('GET', `/webhooks/1/${token}/messages/@original`, { auth: false })).toMatchObject({ status: 404, body: { code: 10015 } });
    await callback(id, token, { type: 4, data: { content: 'hi' } });
    const other = await post('other');
    expect(await webhook('PATCH', token, `/messages/${other}`, { content: 'x' })).toMatchObject({ status: 404, body: { code: 10008 } });
    expect(await webhook('GET', token, '/messages/%40original')).toMatchObject({ status: 200, body: { content: 'hi', type: 20 } });
    expect((await webhook('POST', token, '', { content: 'no wait' })).status).toBe(204);
    expect((await webhook('DELETE', token, '/messages/@original')).status).toBe(204);
    expect(await webhook('GET', token, '/messages/@original')).toMatchObject({ status: 404, body: { code: 10008 } });
  });

  async function post(content: string): Promise<string> {
    return (await api('POST', `/channels/${discord.channelId}/messages`, { json: { content } })).body.id;
  }

  it('refuses helper calls that Discord could never produce', async () => {
    await expect(discord.button('1', 'x')).rejects.toThrow(/message 1 does not exist/);
    const plain = await post('no buttons');
    await expect(discord.button(plain, 'x')).rejects.toThrow(/has no component 'x'/);
    const disabled = await api('POST', `/channels/${discord.channelId}/messages`, {
      json: { content: 'x', components: [{ type: 1, components: [{ type: 2, style: 1, label: 'off', custom_id: 'off', disabled: true }] }] },
    });
    await expect(discord.button(disabled.body.id, 'off')).rejects.toThrow(/is disabled/);
    await expect(discord.modalSubmit('never-shown', {})).rejects.toThrow(/no modal with custom_id 'never-shown'/);
    await expect(discord.autocomplete('ping', {}, 'missing')).rejects.toThrow(/no option 'missing' to focus/);
    expect(() => discord.advance(1)).toThrow(/clock: 'manual'/);
    expect(() => discord.faults.deleteMessage('1')).toThrow(/no message 1/);
    expect(() => discord.guild('1')).toThrow(/unknown guild 1/);
  });
});

describe('faults, rate limits and waiting', () => {
  it('lets `skip` matching requests through before a fault starts', async () => {
    discord.faults.failNext({ method: 'GET', route: /^\/channels\/\d+$/, status: 503, skip: 1 });
    expect(await api('GET', `/channels/${discord.channelId}`)).toMatchObject({ status: 200 });
    expect(await api('GET', `/channels/${discord.channelId}`)).toMatchObject({ status: 503 });
    expect(await api('GET', `/channels/${discord.channelId}`)).toMatchObject({ status: 200 });
    expect(() => discord.faults.failNext({ route: '/x', status: 500, skip: -1 })).toThrow('skip must be an integer >= 0, got -1');
  });

  it('injects errors by method and route, with Discord codes per status', async () => {
    discord.faults.failNext({ method: 'GET', route: /^\/channels\/\d+$/, status: 404, times: 2 });
    discord.faults.failNext({ route: '/gateway/bot', status: 502 });
    discord.faults.failNext({ route: '/gateway/bot', status: 429, scope: 'global', retryAfter: 1.5 });
    expect(await api('GET', `/channels/${discord.channelId}`)).toMatchObject({ status: 404, body: { code: 10008 } });
    expect(await api('GET', `/channels/${discord.channelId}`)).toMatchObject({ status: 404 });
    expect(await api('GET', `/channels/${discord.channelId}`)).toMatchObject({ status: 200 });
    expect(await api('GET', '/gateway/bot')).toMatchObject({ status: 502, body: { code: 0 } });
    const limited = await api('GET', '/gateway/bot');
    expect(limited).toMatchObject({ status: 429, body: { retry_after: 1.5, global: true } });
    expect(limited.headers.get('retry-after')).toBe('1.5');
    expect(limited.headers.get('x-ratelimit-global')).toBe('true');
    expect(limited.headers.get('x-ratelimit-scope')).toBe('global');
    expect(discord.rateLimitHits['GET /gateway/bot']).toBe(1);
    expect(() => discord.faults.failNext({ route: 'x', status: 200 })).toThrow(/4xx or 5xx/);
    expect(() => discord.faults.failNext({ route: 'x', status: 500, times: 0 })).toThrow(/times must be >= 1/);
  });

  it('waitFor resolves on the event that satisfies it and times out with context', async () => {
    const waiting = discord.waitFor((d) => d.requests.find((r) => r.path === '/users/@me'));
    await api('GET', '/users/@me');
    expect((await waiting).status).toBe(200);
    await expect(discord.waitFor(() => false, { timeoutMs: 20, description: 'nothing' })).rejects.toThrow(
      /timed out after 20 ms waiting for nothing \(last requests: .*GET \/users\/@me → 200/,
    );
    await expect(discord.waitFor(() => { throw new Error('bad predicate'); })).rejects.toThrow('bad predicate');
  });
});

describe('rate-limit buckets', () => {
  it('gives each channel its own bucket and answers 429 with Retry-After, scope and body', async () => {
    const limited = await startFakeDiscord({ rateLimits: { channel: { limit: 2, windowMs: 60_000 } }, guilds: [{ channels: [{}, {}] }] });
    try {
      const [a, b] = limited.guild().channels.map((c) => c.id);
      const send = (channel: string) =>
        fetch(`${limited.restUrl}/v10/channels/${channel}/messages`, {
          method: 'POST',
          headers: { authorization: `Bot ${limited.token}`, 'content-type': 'application/json' },
          body: '{"content":"x"}',
        });
      const first = await send(a!);
      expect(first.headers.get('x-ratelimit-limit')).toBe('2');
      expect(first.headers.get('x-ratelimit-remaining')).toBe('1');
      expect(first.headers.get('x-ratelimit-bucket')).toBe('fake-channel');
      expect(Number(first.headers.get('x-ratelimit-reset-after'))).toBeGreaterThan(59);
      expect((await send(a!)).headers.get('x-ratelimit-remaining')).toBe('0');
      const third = await send(a!);
      expect(third.status).toBe(429);
      expect(third.headers.get('x-ratelimit-scope')).toBe('user');
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(59);
      expect(await third.json()).toMatchObject({ message: 'You are being rate limited.', global: false });
      expect((await send(b!)).status).toBe(200);
      expect(limited.rateLimitHits).toEqual({ 'POST /channels/:channel/messages': 1 });
    } finally {
      await limited.close();
    }
  });
});
