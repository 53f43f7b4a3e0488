import { describe, expect, it } from 'vitest';
import { refusal, setup, spec } from './helpers.js';

describe('limits through the scheduler', () => {
  it('queues up to the waiting limit, refuses the next in words, and admits again once a job ends', async () => {
    const { scheduler, gpu, clock } = setup({ limits: { perUserQueued: 3 } });
    const first = scheduler.submit(spec('a'));
    for (let i = 0; i < 3; i += 1) scheduler.submit(spec('a'));
    const run = await gpu.running(0);
    run.start();
    clock.advance(5_000);
    const e = refusal(() => scheduler.submit(spec('a')));
    expect(e.limit).toBe('queued');
    expect(e.message).toBe('You already have 3 jobs waiting (the limit); wait for one to finish');
    expect(scheduler.jobs()).toHaveLength(4);
    // Another user is not affected by a's limit.
    expect(() => scheduler.submit(spec('b'))).not.toThrow();
    run.succeed();
    await first.done;
    // b has never been served, so b goes next; a still has 3 waiting.
    expect(refusal(() => scheduler.submit(spec('a'))).limit).toBe('queued');
    (await gpu.running(1)).succeed();
    expect((await gpu.running(2)).spec.owner.userId).toBe('a');
    expect(() => scheduler.submit(spec('a'))).not.toThrow();
  });

  it('says when a full user frees up once run times are known', async () => {
    const { scheduler, gpu, clock } = setup({ limits: { perUserQueued: 0 } });
    const first = scheduler.submit(spec('a'));
    const run = await gpu.running(0);
    run.start();
    clock.advance(8_000);
    run.succeed();
    await first.done;
    scheduler.submit(spec('a'));
    (await gpu.running(1)).start();
    const e = refusal(() => scheduler.submit(spec('a')));
    expect(e.limit).toBe('running');
    expect(e.retryAt).toEqual(new Date(clock.now() + 8_000));
  });

  it('applies the overrides a submission carries (a guild\'s per-role limits) on top of the configured ones', () => {
    const { scheduler } = setup({ limits: { perUserQueued: 1 } });
    const member = { userId: 'm', guildId: 'g1', roles: ['artist'] };
    const guildRoleLimit = [{ guild: 'g1', role: 'artist', perUserQueued: 2 }];
    for (let i = 0; i < 3; i += 1) scheduler.submit({ ...spec('m'), owner: member, limitOverrides: guildRoleLimit });
    expect(refusal(() => scheduler.submit({ ...spec('m'), owner: member, limitOverrides: guildRoleLimit })).limit).toBe('queued');
    // Without the guild's override the configured limit holds: the backend is busy, so one job waits and no more.
    const other = { userId: 'n', guildId: 'g1', roles: ['artist'] };
    scheduler.submit({ ...spec('n'), owner: other });
    expect(refusal(() => scheduler.submit({ ...spec('n'), owner: other })).limit).toBe('queued');
  });

  it('applies per-role and per-command overrides and the command file’s own limits', () => {
    const { scheduler } = setup({
      limits: { perUserQueued: 1 },
      limitOverrides: [{ role: 'patron', perUserQueued: 3 }, { command: 'video', perUserQueued: 0 }],
    });
    const patron = { userId: 'p', guildId: 'g1', roles: ['patron'] };
    for (let i = 0; i < 4; i += 1) scheduler.submit({ ...spec('p'), owner: patron });
    expect(refusal(() => scheduler.submit({ ...spec('p'), owner: patron })).limit).toBe('queued');
    // With no waiting allowed, a job is admitted only if it may start; the backend is busy, so it waits alone.
    scheduler.submit(spec('v', { command: 'video' }));
    const e = refusal(() => scheduler.submit(spec('v', { command: 'video' })));
    expect(e.message).toBe('You already have 1 job waiting (the limit is 0); wait for one to finish');
    scheduler.submit(spec('c', { commandLimits: { perUserQueued: 0 } }));
    expect(refusal(() => scheduler.submit(spec('c', { commandLimits: { perUserQueued: 0 } }))).limit).toBe('queued');
  });

  it('enforces the interval and the daily quota with the clock', () => {
    const { scheduler, clock } = setup({ limits: { minIntervalSeconds: 10, dailyQuota: 2 } });
    scheduler.submit(spec('a'));
    expect(refusal(() => scheduler.submit(spec('a'))).limit).toBe('interval');
    clock.advance(10_000);
    scheduler.submit(spec('a'));
    clock.advance(10_000);
    const e = refusal(() => scheduler.submit(spec('a')));
    expect(e.message).toBe('Daily quota reached (2 jobs); it resets at 00:00 UTC');
  });
});

describe('the side-effect-free pre-check', () => {
  it('refuses what submit would refuse, records nothing, and a refusal after work starts the interval only', () => {
    const { scheduler, clock } = setup({ limits: { minIntervalSeconds: 60, dailyQuota: 2 } });
    // Checking as often as you like admits nothing: the interval and the quota are untouched.
    for (let i = 0; i < 5; i += 1) scheduler.check(spec('a'));
    scheduler.submit(spec('a'));
    expect(refusal(() => scheduler.check(spec('a'))).limit).toBe('interval');
    expect(() => scheduler.check(spec('b'))).not.toThrow();

    // b's blocked prompt: b waits out the interval like after a job, but the day's quota is not charged.
    scheduler.noteRefused('b');
    expect(refusal(() => scheduler.check(spec('b'))).message).toMatch(/^Please wait 60 s between jobs/);
    clock.advance(60_000);
    scheduler.submit(spec('b'));
    clock.advance(60_000);
    expect(() => scheduler.submit(spec('b'))).not.toThrow();
    clock.advance(60_000);
    expect(refusal(() => scheduler.check(spec('b'))).limit).toBe('daily');
  });

  it('checks the workflow only when it is given: the limits come before the options', () => {
    const { scheduler } = setup({ limits: { perUserQueued: 0, perUserRunning: 0 } });
    const { workflow: _workflow, ...withoutWorkflow } = spec('a');
    expect(refusal(() => scheduler.check(withoutWorkflow)).limit).toBe('running');
  });
});
