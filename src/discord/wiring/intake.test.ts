import { describe, expect, it, vi } from 'vitest';
import type { JobSpec } from '../../jobs/job.js';
import type { Admission, AdmissionCaps, NewJobRow } from '../../jobs/store-types.js';
import { UnavailableError } from '../../scheduler/errors.js';
import { LimitError } from '../../scheduler/limits.js';
import { sharedIntake } from './intake.js';

const spec: JobSpec = { owner: { userId: 'u1', guildId: 'g1', roles: [] }, command: 'imagine', workflow: {}, params: { prompt: 'a fox' } };
const placement = { channelId: 'c1', interaction: { token: 'tok', expiresAt: 1 }, parent: null, uploadLimit: null, images: [] };

function setUp(admission: (row: NewJobRow, caps: AdmissionCaps) => Admission, limits: Record<string, number | undefined> = {}) {
  const store = { admitJob: vi.fn(admission), wake: vi.fn() };
  const scheduler = {
    limitsFor: vi.fn(() => ({ perUserRunning: 1, perUserQueued: 3, minIntervalSeconds: 0, ...limits })),
    check: vi.fn(() => {
      throw new UnavailableError('draining', "this server's admins have stopped taking new jobs for now; try again later");
    }),
  };
  return { store, scheduler };
}

describe('sharedIntake (several processes on one store)', () => {
  it("admits in the store with the member's and the server's caps, then wakes the leader with the job's id", () => {
    const { store, scheduler } = setUp((row) => ({ admitted: true, row: { ...row } as never }), { perGuildRunning: 2, perGuildQueued: 5, dailyQuota: 20 });
    const accepted = sharedIntake({ store, scheduler } as never, () => false).accept(spec, placement);
    expect(accepted.job).toBeNull();
    const [row, caps] = store.admitJob.mock.calls[0]!;
    expect(caps).toEqual({ userLive: 4, guildLive: 7, dailyQuota: 20 });
    expect(row).toMatchObject({ id: accepted.id, ownerId: 'u1', guildId: 'g1', channelId: 'c1', interaction: { token: 'tok' }, params: { prompt: 'a fox' } });
    expect(store.wake).toHaveBeenCalledWith(`job:${accepted.id}`);
  });

  it('refuses with the cap the store found full, and wakes nobody', () => {
    const { store, scheduler } = setUp(() => ({ admitted: false, limit: 'userLive', count: 4, cap: 4 }));
    const intake = sharedIntake({ store, scheduler } as never, () => true);
    expect(() => intake.accept(spec, placement)).toThrow(new LimitError('queued', 'You already have 4 jobs waiting or running (the limit is 4); wait for one to finish'));
    expect(store.wake).not.toHaveBeenCalled();
  });

  it("lets a standby skip the scheduler's check (it knows neither backends nor holds); the leader's refusal stands", () => {
    const { store, scheduler } = setUp(() => ({ admitted: false, limit: 'dailyQuota', count: 1, cap: 1 }));
    expect(() => sharedIntake({ store, scheduler } as never, () => false).check({ owner: spec.owner, command: 'imagine' })).not.toThrow();
    expect(scheduler.check).not.toHaveBeenCalled();
    expect(() => sharedIntake({ store, scheduler } as never, () => true).check({ owner: spec.owner, command: 'imagine' })).toThrow(UnavailableError);
    expect(scheduler.check).toHaveBeenCalledOnce();
  });
});
