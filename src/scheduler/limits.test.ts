import { describe, expect, it } from 'vitest';
import type { Limits } from '../config/schema.js';
import { LimitError, SubmissionLimiter, resolveLimits } from './limits.js';
import type { Clock } from './clock.js';
import { MemoryUsage } from './usage.js';
import { refusal } from '../../test/scheduler/helpers.js';

const base: Limits = { perUserRunning: 1, perUserQueued: 3, minIntervalSeconds: 0 };
const owner = { userId: 'u', guildId: 'g1', roles: ['patron', 'member'] };
/** A server with nothing running or waiting. */
const quietGuild = { guildId: 'g1', running: 0, queued: 0 };

function clockAt(ms: number): Clock & { t: number } {
  return { t: ms, now() { return this.t; }, setTimeout: () => ({}), clearTimeout: () => undefined };
}

describe('resolveLimits', () => {
  it('applies command file limits, then overrides from least to most specific', () => {
    const limits = resolveLimits(
      base,
      [
        { guild: 'g1', perUserQueued: 5 },
        { guild: 'g1', command: 'video', perUserQueued: 1 },
        { role: 'patron', perUserRunning: 2 },
        { guild: 'other', perUserRunning: 9 },
      ],
      { owner, command: 'video', commandLimits: { perUserRunning: 1, perUserQueued: 2 } },
    );
    expect(limits).toEqual({ perUserRunning: 2, perUserQueued: 1, minIntervalSeconds: 0 });
  });

  it('takes every limit the command file sets', () => {
    const limits = resolveLimits(base, [], { owner, command: 'video', commandLimits: { minIntervalSeconds: 60, dailyQuota: 5 } });
    expect(limits).toEqual({ perUserRunning: 1, perUserQueued: 3, minIntervalSeconds: 60, dailyQuota: 5 });
  });

  it('takes the most generous value among equally specific overrides (two roles)', () => {
    const limits = resolveLimits(base, [
      { role: 'member', perUserQueued: 4, minIntervalSeconds: 30 },
      { role: 'patron', perUserQueued: 10, minIntervalSeconds: 5 },
    ], { owner, command: 'draw' });
    expect(limits.perUserQueued).toBe(10);
    expect(limits.minIntervalSeconds).toBe(5);
  });
});

describe('resolveLimits: per-server caps', () => {
  it('takes the caps from the config and from overrides that name only the guild, most generous first', () => {
    const caps = { ...base, perGuildRunning: 2, perGuildQueued: 10 };
    const overrides = [
      { guild: 'g1', perGuildQueued: 20 },
      { guild: 'g1', perGuildQueued: 30, perGuildRunning: 4 },
      { guild: 'other', perGuildRunning: 9 },
      // Not server-wide: the caps in these are ignored (the config schema refuses them with a message).
      { guild: 'g1', role: 'patron', perGuildRunning: 8 },
      { command: 'video', perGuildQueued: 1 },
    ];
    const limits = resolveLimits(caps, overrides, { owner, command: 'video' });
    expect([limits.perGuildRunning, limits.perGuildQueued]).toEqual([4, 30]);
    const elsewhere = resolveLimits(caps, overrides, { owner: { ...owner, guildId: 'g2' }, command: 'draw' });
    expect([elsewhere.perGuildRunning, elsewhere.perGuildQueued]).toEqual([2, 10]);
    expect(resolveLimits(base, [], { owner, command: 'draw' }).perGuildQueued).toBeUndefined();
  });
});

describe('SubmissionLimiter', () => {
  it('refuses a fourth waiting job with the queued limit in words', () => {
    const limiter = new SubmissionLimiter(clockAt(0));
    const e = refusal(() => limiter.admit('u', base, { running: 1, queued: 3, nextFreeAt: 5000 }, quietGuild));
    expect(e.limit).toBe('queued');
    expect(e.message).toBe('You already have 3 jobs waiting (the limit); wait for one to finish');
    expect(e.retryAt).toEqual(new Date(5000));
  });

  it('refuses on the running limit when nothing may wait', () => {
    const limiter = new SubmissionLimiter(clockAt(0));
    const e = refusal(() => limiter.admit('u', { ...base, perUserQueued: 0 }, { running: 1, queued: 0 }, quietGuild));
    expect(e.limit).toBe('running');
    expect(e.message).toBe('You already have 1 job running (the limit); wait for it to finish');
    expect(e.retryAt).toBeUndefined();
  });

  it('admits a job that would start at once even when no waiting is allowed', () => {
    const limiter = new SubmissionLimiter(clockAt(0));
    expect(() => limiter.admit('u', { ...base, perUserQueued: 0 }, { running: 0, queued: 0 }, quietGuild)).not.toThrow();
  });

  it('enforces the minimum interval and says when the user may submit again', () => {
    const clock = clockAt(Date.UTC(2026, 0, 1, 10, 0, 0));
    const limiter = new SubmissionLimiter(clock);
    const limits = { ...base, minIntervalSeconds: 30 };
    limiter.admit('u', limits, { running: 0, queued: 0 }, quietGuild);
    clock.t += 10_000;
    const e = refusal(() => limiter.admit('u', limits, { running: 0, queued: 0 }, quietGuild));
    expect(e.limit).toBe('interval');
    expect(e.message).toBe('Please wait 20 s between jobs (the limit is 30 s); you can submit again at 10:00:30 UTC');
    expect(e.retryAt).toEqual(new Date(Date.UTC(2026, 0, 1, 10, 0, 30)));
    expect(() => limiter.admit('other', limits, { running: 0, queued: 0 }, quietGuild)).not.toThrow();
    clock.t += 20_000;
    expect(() => limiter.admit('u', limits, { running: 0, queued: 0 }, quietGuild)).not.toThrow();
  });

  it('does not read the last admission when no interval applies (the store answers it with a query)', () => {
    const usage = new MemoryUsage();
    let reads = 0;
    const lastAt = usage.lastAt.bind(usage);
    usage.lastAt = (userId) => {
      reads += 1;
      return lastAt(userId);
    };
    const limiter = new SubmissionLimiter(clockAt(0), usage);
    limiter.check('u', base, { running: 0, queued: 0 }, quietGuild);
    limiter.admit('u', base, { running: 0, queued: 0 }, quietGuild);
    expect(reads).toBe(0);
    // With an interval it is read, and the admission just made counts.
    expect(refusal(() => limiter.check('u', { ...base, minIntervalSeconds: 30 }, { running: 0, queued: 0 }, quietGuild)).limit).toBe('interval');
    expect(reads).toBe(1);
  });

  it('counts a daily quota per UTC day and resets at midnight', () => {
    const clock = clockAt(Date.UTC(2026, 0, 1, 23, 0, 0));
    const limiter = new SubmissionLimiter(clock);
    const limits = { ...base, dailyQuota: 2 };
    limiter.admit('u', limits, { running: 0, queued: 0 }, quietGuild);
    limiter.admit('u', limits, { running: 0, queued: 0 }, quietGuild);
    const e = refusal(() => limiter.admit('u', limits, { running: 0, queued: 0 }, quietGuild));
    expect(e.limit).toBe('daily');
    expect(e.message).toBe('Daily quota reached (2 jobs); it resets at 00:00 UTC');
    expect(e.retryAt).toEqual(new Date(Date.UTC(2026, 0, 2)));
    clock.t = Date.UTC(2026, 0, 2, 0, 0, 1);
    expect(() => limiter.admit('u', limits, { running: 0, queued: 0 }, quietGuild)).not.toThrow();
  });

  it('reads and records admissions in the usage it is given (a persistent one survives the limiter)', () => {
    const clock = clockAt(Date.UTC(2026, 0, 1, 10, 0, 0));
    const usage = new MemoryUsage();
    const limits = { ...base, dailyQuota: 2 };
    new SubmissionLimiter(clock, usage).admit('u', limits, { running: 0, queued: 0 }, quietGuild);
    const restarted = new SubmissionLimiter(clock, usage);
    restarted.admit('u', limits, { running: 0, queued: 0 }, quietGuild);
    expect(refusal(() => restarted.admit('u', limits, { running: 0, queued: 0 }, quietGuild)).limit).toBe('daily');
    expect(usage.countOnDay('u', clock.t)).toBe(2);
  });

  it('does not charge the quota for a refused submission', () => {
    const limiter = new SubmissionLimiter(clockAt(0));
    const limits = { ...base, dailyQuota: 1 };
    expect(() => limiter.admit('u', limits, { running: 1, queued: 3 }, quietGuild)).toThrow(LimitError);
    expect(() => limiter.admit('u', limits, { running: 0, queued: 0 }, quietGuild)).not.toThrow();
  });

  it('refuses a waiting job over the server cap, saying whose limit it is and when it frees up', () => {
    const clock = clockAt(Date.UTC(2026, 0, 1, 10, 0, 0));
    const limiter = new SubmissionLimiter(clock);
    const limits = { ...base, perGuildQueued: 2, perGuildRunning: 1 };
    const busy = { guildId: 'g1', running: 1, queued: 2, nextFreeAt: Date.UTC(2026, 0, 1, 10, 0, 42) };
    const e = refusal(() => limiter.admit('u', limits, { running: 0, queued: 0 }, busy));
    expect(e.limit).toBe('guildQueued');
    expect(e.message).toBe('This server already has 2 jobs waiting (the limit); wait for one to finish (expected around 10:00:42 UTC)');
    expect(e.retryAt).toEqual(new Date(busy.nextFreeAt));
    // Below the cap it is admitted.
    expect(() => limiter.admit('u', limits, { running: 0, queued: 0 }, { ...busy, queued: 1 })).not.toThrow();
  });

  it('refuses on the server running cap when the server may have nothing waiting, and counts direct messages as one server', () => {
    const limiter = new SubmissionLimiter(clockAt(0));
    const limits = { ...base, perGuildRunning: 3, perGuildQueued: 0 };
    const e = refusal(() => limiter.admit('u', limits, { running: 0, queued: 0 }, { guildId: null, running: 3, queued: 0 }));
    expect(e.limit).toBe('guildRunning');
    expect(e.message).toBe('Direct messages to the bot already have 3 jobs running (the limit); wait for one to finish');
    expect(e.retryAt).toBeUndefined();
  });

  it("counts a job that waits for its user's own slot against the server's waiting cap", () => {
    const limiter = new SubmissionLimiter(clockAt(0));
    const limits = { ...base, perGuildQueued: 1 };
    const e = refusal(() => limiter.admit('u', limits, { running: 1, queued: 0 }, { guildId: 'g1', running: 1, queued: 1 }));
    expect(e.message).toBe('This server already has 1 job waiting (the limit); wait for one to finish');
    // The same load, but the user's job would start at once: nothing more waits, so it is admitted.
    expect(() => limiter.admit('v', limits, { running: 0, queued: 0 }, { guildId: 'g1', running: 1, queued: 0 })).not.toThrow();
  });

  it('checks the user before the server, and does not charge the quota for a server refusal', () => {
    const limiter = new SubmissionLimiter(clockAt(0));
    const limits = { ...base, perUserQueued: 0, perGuildRunning: 1, perGuildQueued: 0, dailyQuota: 1 };
    const full = { guildId: 'g1', running: 1, queued: 0 };
    expect(refusal(() => limiter.admit('u', limits, { running: 1, queued: 0 }, full)).limit).toBe('running');
    expect(refusal(() => limiter.admit('u', limits, { running: 0, queued: 0 }, full)).limit).toBe('guildRunning');
    expect(() => limiter.admit('u', limits, { running: 0, queued: 0 }, quietGuild)).not.toThrow();
  });
});
