// Per-user limits that span submissions (the daily quota and the minimum interval) survive a restart: they are
// counted in the store, not in the process that admitted the jobs.
import { describe, expect, it } from 'vitest';
import { refusal } from '../scheduler/helpers.js';
import { spec, useLives } from './life.js';

const { world, life } = useLives();

const NOON = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('limits across a restart', () => {
  it('keeps counting the daily quota, and resets it on the next UTC day', async () => {
    const { dir, fake } = await world();
    const limits = { dailyQuota: 2 };
    const first = await life(dir, fake, { limits, startAt: NOON });
    first.submit(spec('ann', 1));
    first.submit(spec('ann', 2));
    await first.crash();

    const second = await life(dir, fake, { limits, startAt: NOON + 60_000 });
    const e = refusal(() => second.submit(spec('ann', 3)));
    expect(e.limit).toBe('daily');
    expect(e.message).toBe('Daily quota reached (2 jobs); it resets at 00:00 UTC');
    expect(() => second.submit(spec('bob', 4))).not.toThrow();
    await second.crash();

    const tomorrow = await life(dir, fake, { limits, startAt: Date.UTC(2026, 0, 2, 0, 0, 1) });
    expect(() => tomorrow.submit(spec('ann', 5))).not.toThrow();
  });

  it('keeps the minimum interval from the last submission before the restart', async () => {
    const { dir, fake } = await world();
    const limits = { minIntervalSeconds: 60 };
    const first = await life(dir, fake, { limits, startAt: NOON });
    first.submit(spec('ann', 1));
    await first.crash();

    const second = await life(dir, fake, { limits, startAt: NOON + 20_000 });
    const e = refusal(() => second.submit(spec('ann', 2)));
    expect(e.limit).toBe('interval');
    expect(e.message).toBe('Please wait 40 s between jobs (the limit is 60 s); you can submit again at 12:01:00 UTC');
    expect(e.retryAt).toEqual(new Date(NOON + 60_000));
    second.clock.advance(40_000);
    // Admitted without writing a row: within a life the interval counts from the admission itself.
    expect(() => second.scheduler.submit(spec('ann', 2))).not.toThrow();
    second.clock.advance(1_000);
    expect(refusal(() => second.scheduler.submit(spec('ann', 3))).limit).toBe('interval');
  });
});
