import { describe, expect, it } from 'vitest';
import type { Limits } from '../config/schema.js';
import { LimitError, SubmissionLimiter, resolveLimits } from './limits.js';
import type { Clock } from './clock.js';
import { MemoryUsage } from './usage.js';
import { refusal } from '../../test/scheduler/helpers.js';

const base: Limits = { perUserRunning: 1, perUserQueued: 3, minIntervalSeconds: 0 };
const owner = { userId: 'u', guildId: 'g1', roles: ['patron', 'member'] };

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

describe('SubmissionLimiter', () => {
  it('refuses a fourth waiting job with the queued limit in words', () => {
    const limiter = new SubmissionLimiter(clockAt(0));
    const e = refusal(() => limiter.admit('u', base, { running: 1, queued: 3, nextFreeAt: 5000 }));
    expect(e.limit).toBe('queued');
    expect(e.message).toBe('You already have 3 jobs waiting (the limit); wait for one to finish');
    expect(e.retryAt).toEqual(new Date(5000));
  });

  it('refuses on the running limit when nothing may wait', () => {
    const limiter = new SubmissionLimiter(clockAt(0));
    const e = refusal(() => limiter.admit('u', { ...base, perUserQueued: 0 }, { running: 1, queued: 0 }));
    expect(e.limit).toBe('running');
    expect(e.message).toBe('You already have 1 job running (the limit); wait for it to finish');
    expect(e.retryAt).toBeUndefined();
  });

  it('admits a job that would start at once even when no waiting is allowed', () => {
    const limiter = new SubmissionLimiter(clockAt(0));
    expect(() => limiter.admit('u', { ...base, perUserQueued: 0 }, { running: 0, queued: 0 })).not.toThrow();
  });

  it('enforces the minimum interval and says when the user may submit again', () => {
    const clock = clockAt(Date.UTC(2026, 0, 1, 10, 0, 0));
    const limiter = new SubmissionLimiter(clock);
    const limits = { ...base, minIntervalSeconds: 30 };
    limiter.admit('u', limits, { running: 0, queued: 0 });
    clock.t += 10_000;
    const e = refusal(() => limiter.admit('u', limits, { running: 0, queued: 0 }));
    expect(e.limit).toBe('interval');
    expect(e.message).toBe('Please wait 20 s between jobs (the limit is 30 s); you can submit again at 10:00:30 UTC');
    expect(e.retryAt).toEqual(new Date(Date.UTC(2026, 0, 1, 10, 0, 30)));
    expect(() => limiter.admit('other', limits, { running: 0, queued: 0 })).not.toThrow();
    clock.t += 20_000;
    expect(() => limiter.admit('u', limits, { running: 0, queued: 0 })).not.toThrow();
  });

  it('counts a daily quota per UTC day and resets at midnight', () => {
    const clock = clockAt(Date.UTC(2026, 0, 1, 23, 0, 0));
    const limiter = new SubmissionLimiter(clock);
    const limits = { ...base, dailyQuota: 2 };
    limiter.admit('u', limits, { running: 0, queued: 0 });
    limiter.admit('u', limits, { running: 0, queued: 0 });
    const e = refusal(() => limiter.admit('u', limits, { running: 0, queued: 0 }));
    expect(e.limit).toBe('daily');
    expect(e.message).toBe('Daily quota reached (2 jobs); it resets at 00:00 UTC');
    expect(e.retryAt).toEqual(new Date(Date.UTC(2026, 0, 2)));
    clock.t = Date.UTC(2026, 0, 2, 0, 0, 1);
    expect(() => limiter.admit('u', limits, { running: 0, queued: 0 })).not.toThrow();
  });

  it('reads and records admissions in the usage it is given (a persistent one survives the limiter)', () => {
    const clock = clockAt(Date.UTC(2026, 0, 1, 10, 0, 0));
    const usage = new MemoryUsage();
    const limits = { ...base, dailyQuota: 2 };
    new SubmissionLimiter(clock, usage).admit('u', limits, { running: 0, queued: 0 });
    const restarted = new SubmissionLimiter(clock, usage);
    restarted.admit('u', limits, { running: 0, queued: 0 });
    expect(refusal(() => restarted.admit('u', limits, { running: 0, queued: 0 })).limit).toBe('daily');
    expect(usage.countOnDay('u', clock.t)).toBe(2);
  });

  it('does not charge the quota for a refused submission', () => {
    const limiter = new SubmissionLimiter(clockAt(0));
    const limits = { ...base, dailyQuota: 1 };
    expect(() => limiter.admit('u', limits, { running: 1, queued: 3 })).toThrow(LimitError);
    expect(() => limiter.admit('u', limits, { running: 0, queued: 0 })).not.toThrow();
  });
});
