import { describe, expect, it } from 'vitest';
import { DiscordAPIError, HTTPError, RateLimitError } from 'discord.js';
import { classifyCardError, loggableError } from './discordErrors.js';

const apiError = (code: number, status: number, extra: Record<string, unknown> = {}) =>
  new DiscordAPIError({ code, message: `error ${code}`, ...extra }, code, status, 'PATCH', '/channels/1/messages/2', {});

describe('classifyCardError', () => {
  it('reads retry-after from RateLimitError (ms) and from a 429 body (s)', () => {
    const rateLimit = new RateLimitError({
      timeToReset: 0, limit: 5, method: 'PATCH', hash: 'h', url: '/x', route: '/x', majorParameter: '1',
      global: false, retryAfter: 2500, sublimitTimeout: 0, scope: 'user',
    });
    expect(classifyCardError(rateLimit)).toEqual({ kind: 'rate-limited', retryAfterMs: 2500 });
    expect(classifyCardError(apiError(0, 429, { retry_after: 1.5 }))).toEqual({ kind: 'rate-limited', retryAfterMs: 1500 });
    expect(classifyCardError(apiError(0, 429))).toEqual({ kind: 'rate-limited', retryAfterMs: 1000 });
  });

  it.each([
    [50027, 401, 'token-invalid'],
    [10015, 404, 'token-invalid'],
    [0, 401, 'token-invalid'],
    [10008, 404, 'message-gone'],
    [30046, 400, 'message-gone'],
    [50013, 403, 'forbidden'],
    [50001, 403, 'forbidden'],
    [10003, 404, 'forbidden'],
    [40005, 413, 'other'],
    [0, 500, 'other'],
  ])('code %i (HTTP %i) means %s', (code, status, kind) => {
    expect(classifyCardError(apiError(code, status)).kind).toBe(kind);
  });

  it('keeps the message of anything else', () => {
    expect(classifyCardError(new Error('socket hang up'))).toEqual({ kind: 'other', message: 'socket hang up' });
    expect(classifyCardError('weird')).toEqual({ kind: 'other', message: 'weird' });
    expect(classifyCardError(apiError(50013, 403))).toEqual({ kind: 'forbidden', message: 'error 50013 (code 50013)' });
  });
});

describe('loggableError', () => {
  it('keeps what failed and how, never the request body (files) or the URL (tokens)', () => {
    const body = { files: [{ name: 'big.png', data: Buffer.alloc(1024) }], json: { content: 'x' } };
    const http = new HTTPError(503, 'Service Unavailable', 'POST', 'https://discord.test/webhooks/1/secret-token', body);
    const api = new DiscordAPIError({ code: 10008, message: 'Unknown Message' }, 10008, 404, 'DELETE', '/webhooks/1/secret-token/messages/2', body);
    for (const error of [http, api]) {
      const logged = JSON.stringify(loggableError(error));
      expect(logged).not.toContain('secret-token');
      expect(logged).not.toContain('big.png');
    }
    expect(loggableError(http)).toEqual({ type: 'HTTPError', message: 'Service Unavailable', status: 503, method: 'POST' });
    expect(loggableError(api)).toMatchObject({ code: 10008, status: 404, method: 'DELETE' });
    const plain = new Error('boom');
    expect(loggableError(plain)).toBe(plain);
  });
});
