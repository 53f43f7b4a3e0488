import { describe, expect, it } from 'vitest';
import { DiscordAPIError, RateLimitError } from 'discord.js';
import { classifyCardError } from './discordErrors.js';

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
