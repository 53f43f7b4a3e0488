import { Writable } from 'node:stream';
import { DiscordAPIError, HTTPError } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { MAX_FIELD_CHARS, sanitizeForLog, scrubSecrets } from './redact.js';

const INTERACTION_TOKEN = 'aW50ZXJhY3Rpb246MTIzNDU2Nzg5OnNlY3JldHNlY3JldHNlY3JldA';
const BOT_TOKEN = 'MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789';
const API_KEY = 'comfy-cloud-key-0123456789';

function capture(secrets: string[] = []) {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ destination, pretty: false, secrets }), raw };
}

/** Every string anywhere in a parsed line. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

function apiError(): DiscordAPIError {
  const url = `https://discord.com/api/v10/webhooks/111222333/${INTERACTION_TOKEN}/messages/@original`;
  const file = { name: 'imagine_00001_.png', contentType: 'image/png', data: Buffer.alloc(200_000, 7) };
  return new DiscordAPIError({ message: 'Missing Permissions', code: 50013 }, 50013, 403, 'PATCH', url, {
    files: [file],
    body: JSON.stringify({ embeds: [{ title: 'x'.repeat(5000) }] }),
  });
}

describe('the logger', () => {
  it('never writes an interaction token, request body or file bytes from a discord.js error, however it is logged', () => {
    const { logger, raw } = capture();
    const error = apiError();
    logger.error({ err: error, job: 'j1' }, 'editing the card failed');
    logger.error(error);
    logger.child({ failure: error }).warn('bound');
    logger.warn({ err: new Error('upload failed', { cause: error }) }, 'nested');
    expect(raw).toHaveLength(4);
    for (const line of raw) {
      expect(line).not.toContain(INTERACTION_TOKEN);
      expect(line.includes('xxxxxxxxxx')).toBe(false);
      for (const s of strings(JSON.parse(line))) expect(s.length).toBeLessThanOrEqual(2048);
      expect(line.length).toBeLessThan(8_000);
    }
    const first = JSON.parse(raw[0]!) as { err: Record<string, unknown>; job: string };
    expect(first.job).toBe('j1');
    expect(first.err.type).toBe('DiscordAPIError');
    expect(first.err.status).toBe(403);
    expect(first.err.url).toBe('https://discord.com/api/v10/webhooks/111222333/[redacted]/messages/@original');
    expect(first.err.requestBody).toEqual({
      files: [{ name: 'imagine_00001_.png', type: 'image/png', bytes: 200_000 }],
      json: expect.stringMatching(/^\[omitted, \d+ chars\]$/),
    });
    expect((JSON.parse(raw[1]!) as { msg: string }).msg).toBe('Missing Permissions');
    const nested = JSON.parse(raw[3]!) as { err: { cause: { url: string } } };
    expect(nested.err.cause.url).toContain('/webhooks/111222333/[redacted]/');
  });

  it('redacts Authorization and API-key headers, token query strings and the configured secrets everywhere', () => {
    const { logger, raw } = capture([BOT_TOKEN, API_KEY]);
    const cause = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    logger.error(
      {
        err: new TypeError('fetch failed', { cause }),
        request: { headers: { Authorization: `Bot ${BOT_TOKEN}`, 'X-API-Key': API_KEY, accept: 'application/json' } },
        ws: `wss://cloud.example/ws?clientId=1&token=${API_KEY}`,
        interaction: { token: INTERACTION_TOKEN, expiresAt: 1 },
      },
      `posting to /interactions/987654321/${INTERACTION_TOKEN}/callback with Bearer ${API_KEY}`,
    );
    logger.info(`config: ${JSON.stringify({ discord: { token: BOT_TOKEN } })}`);
    const line = raw.join('\n');
    for (const secret of [BOT_TOKEN, API_KEY, INTERACTION_TOKEN]) expect(line).not.toContain(secret);
    const parsed = JSON.parse(raw[0]!) as Record<string, any>;
    expect(parsed.request.headers).toEqual({ Authorization: '[redacted]', 'X-API-Key': '[redacted]', accept: 'application/json' });
    expect(parsed.err.cause).toMatchObject({ type: 'Error', message: 'connect ECONNREFUSED', code: 'ECONNREFUSED' });
    expect(parsed.msg).toBe('posting to /interactions/987654321/[redacted]/callback with Bearer [redacted]');
    expect(parsed.ws).toBe('wss://cloud.example/ws?clientId=1&token=[redacted]');
  });

  it('caps every field and keeps the start of it', () => {
    const { logger, raw } = capture();
    const http = new HTTPError(502, 'Bad Gateway', 'POST', 'https://discord.com/api/v10/channels/1/messages', {
      files: [{ name: 'big.png', contentType: 'image/png', data: new Uint8Array(300_000) }],
      body: 'y'.repeat(100_000),
    });
    logger.warn({ detail: 'z'.repeat(50_000), bytes: Buffer.alloc(10_000), err: http }, 'q'.repeat(10_000));
    const parsed = JSON.parse(raw[0]!) as Record<string, any>;
    expect(parsed.detail).toHaveLength(MAX_FIELD_CHARS + ' … [50000 chars]'.length - 1);
    expect(parsed.detail.startsWith('zzzz')).toBe(true);
    expect(parsed.bytes).toBe('[10000 bytes]');
    expect(parsed.msg.length).toBeLessThan(2048);
    expect(parsed.err.requestBody.files[0]).toEqual({ name: 'big.png', type: 'image/png', bytes: 300_000 });
    expect(raw[0]!.length).toBeLessThan(6_000);
  });
});

describe('child loggers', () => {
  it('keep every level of bindings, sanitised', () => {
    const { logger, raw } = capture();
    logger.child({ job: 'j1', interaction: { token: INTERACTION_TOKEN } }).child({ backend: 'local' }).info('hello');
    expect(JSON.parse(raw[0]!)).toMatchObject({ job: 'j1', interaction: { token: '[redacted]' }, backend: 'local', msg: 'hello' });
  });
});

describe('sanitizeForLog', () => {
  it('survives cycles, deep nesting and long lists', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 20; i += 1) deep = { deep };
    const out = sanitizeForLog({ a, deep, list: Array.from({ length: 100 }, (_, i) => i) }) as Record<string, any>;
    expect(out.a.self).toBe('[circular]');
    expect(JSON.stringify(out.deep)).toContain('[…]');
    expect(out.list).toHaveLength(21);
    expect(out.list.at(-1)).toBe('[80 more]');
  });

  it('leaves ordinary text alone', () => {
    for (const text of [
      'job j1 on backend local (http://127.0.0.1:8188/view?filename=a.png&type=output) took 3 s',
      'Bot shutting down gracefully; Bearer authentication is configured elsewhere',
      'https://discord.com/channels/1/2/3',
    ]) {
      expect(scrubSecrets(text)).toBe(text);
    }
    expect(scrubSecrets('Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig')).not.toContain('eyJhbGci');
  });
});
