import { describe, expect, it, vi } from 'vitest';
import type { JobSpec } from '../../jobs/job.js';
import type { Admission, AdmissionCaps, NewJobRow } from '../../jobs/store-types.js';
import { LimitError } from '../../scheduler/limits.js';
import { sharedIntake } from './intake.js';

const spec: JobSpec = { owner: { userId: 'u1', guildId: 'g1', roles: [] }, command: 'imagine', workflow: {}, params: { prompt: 'a fox' } };
const placement = { channelId: 'c1', interaction: { token: 'tok', expiresAt: 1 }, parent: null, uploadLimit: null, images: [] };

function setUp(admission: (row: NewJobRow, caps: AdmissionCaps) => Admission, limits: Record<string, number | undefined> = {}) {
  const store = { admitJob: vi.fn(admission), wake: vi.fn() };
  const scheduler = {
    limitsFor: vi.fn(() => ({ perUserRunning: 1, perUserQueued: 3, minIntervalSeconds: 0, ...limits })),
    check: vi.fn((): 'fast' | 'relax' => 'relax'),
  };
  const holds = { sync: vi.fn(), set: vi.fn() };
  return { store, scheduler, holds };
}

describe('sharedIntake (several processes on one store)', () => {
  it("admits in the store with the member's and the server's caps, then wakes the leader with the job's id", () => {
    const { store, scheduler, holds } = setUp((row) => ({ admitted: true, row: { ...row } as never }), { perGuildRunning: 2, perGuildQueued: 5, dailyQuota: 20 });
    const accepted = sharedIntake({ store, scheduler, holds } as never).accept(spec, placement);
    expect(accepted.job).toBeNull();
    const [row, caps] = store.admitJob.mock.calls[0]!;
    expect(caps).toEqual({ userLive: 4, guildLive: 7, dailyQuota: 20 });
    expect(row).toMatchObject({ id: accepted.id, ownerId: 'u1', guildId: 'g1', channelId: 'c1', interaction: { token: 'tok' }, params: { prompt: 'a fox' } });
    // The mode the scheduler's check decided (from the shared store's GPU time and the member's choice) is kept.
    expect(row.mode).toBe('relax');
    expect(store.wake).toHaveBeenCalledWith(`job:${accepted.id}`);
  });

  it('refuses with the cap the store found full, and wakes nobody', () => {
    const { store, scheduler, holds } = setUp(() => ({ admitted: false, limit: 'userLive', count: 4, cap: 4 }));
    const intake = sharedIntake({ store, scheduler, holds } as never);
    expect(() => intake.accept(spec, placement)).toThrow(new LimitError('queued', 'You already have 4 jobs waiting or running (the limit is 4); wait for one to finish'));
    expect(store.wake).not.toHaveBeenCalled();
  });

  it("refuses what the scheduler's check refuses (interval, quotas) before anything is admitted", () => {
    const { store, scheduler, holds } = setUp(() => ({ admitted: true, row: {} as never }));
    const interval = new LimitError('interval', 'Please wait 20 s between jobs (the limit is 30 s)');
    scheduler.check.mockImplementation(() => {
      throw interval;
    });
    const intake = sharedIntake({ store, scheduler, holds } as never);
    expect(() => intake.check({ owner: spec.owner, command: 'imagine' })).toThrow(interval);
    expect(() => intake.accept(spec, placement)).toThrow(interval);
    expect(store.admitJob).not.toHaveBeenCalled();
    expect(store.wake).not.toHaveBeenCalled();
  });

  it("reads the holds from the store before every check, so a standby's scheduler refuses as the leader's would", () => {
    const { store, scheduler, holds } = setUp((row) => ({ admitted: true, row: { ...row } as never }));
    const intake = sharedIntake({ store, scheduler, holds } as never);
    intake.check({ owner: spec.owner, command: 'imagine' });
    intake.accept(spec, placement);
    expect(holds.sync).toHaveBeenCalledTimes(2);
    expect(holds.sync.mock.invocationCallOrder[0]).toBeLessThan(scheduler.check.mock.invocationCallOrder[0]!);
    expect(holds.sync.mock.invocationCallOrder[1]).toBeLessThan(scheduler.check.mock.invocationCallOrder[1]!);
  });
});
