import { describe, expect, it, vi } from 'vitest';
import type { Job } from '../../jobs/job.js';
import type { CancelRequestResult, Lease } from '../../jobs/store-types.js';
import { CancelError } from '../../scheduler/errors.js';
import { cancelAllAnswer } from '../handlers/builtins.js';
import { cancelAnswer } from '../handlers/buttons.js';
import { localCanceller, sharedCanceller } from './canceller.js';

const NOW = 1_000_000;
const lease = (expiresAt: number): Lease => ({ holder: 'vm-1', fence: 3, acquiredAt: 0, expiresAt });

function sharedSetUp(result: CancelRequestResult, current: Lease | null = lease(NOW + 5_000)) {
  const store = {
    requestCancel: vi.fn(() => result),
    requestCancelsOf: vi.fn(() => ['j1', 'j2']),
    wake: vi.fn(),
    currentLease: vi.fn(() => current),
  };
  return { store, canceller: sharedCanceller({ store, now: () => NOW }) };
}

describe('sharedCanceller (several processes on one store)', () => {
  it("records the request in the job's row, then wakes the leader with the job's id", async () => {
    const { store, canceller } = sharedSetUp({ recorded: true });
    await expect(canceller.cancel('j1', { userId: 'mod', isModerator: true })).resolves.toEqual({ kind: 'recorded', leaderUp: true });
    expect(store.requestCancel).toHaveBeenCalledWith('j1', { userId: 'mod', isModerator: true });
    expect(store.wake).toHaveBeenCalledWith('cancel:j1');
  });

  it('says when no leader holds the lease (a failover): the request waits for the next one', async () => {
    await expect(sharedSetUp({ recorded: true }, lease(NOW)).canceller.cancel('j1', { userId: 'u', isModerator: false })).resolves.toEqual({ kind: 'recorded', leaderUp: false });
    await expect(sharedSetUp({ recorded: true }, null).canceller.cancel('j1', { userId: 'u', isModerator: false })).resolves.toEqual({ kind: 'recorded', leaderUp: false });
  });

  it('refuses a finished or unknown job and a second request, and wakes nobody', async () => {
    for (const [reason, said] of [['finished', 'finished'], ['not-found', 'finished'], ['already-requested', 'already-requested']] as const) {
      const { store, canceller } = sharedSetUp({ recorded: false, reason });
      await expect(canceller.cancel('j1', { userId: 'u', isModerator: false })).resolves.toEqual({ kind: 'refused', reason: said });
      expect(store.wake).not.toHaveBeenCalled();
    }
  });

  it("records /cancel on all of the member's unfinished jobs in the store, as their owner, and wakes the leader for each", async () => {
    const { store, canceller } = sharedSetUp({ recorded: true });
    await expect(canceller.cancelAllOf('u1')).resolves.toEqual({ kind: 'recorded', found: 2, leaderUp: true });
    expect(store.requestCancelsOf).toHaveBeenCalledWith('u1', { userId: 'u1', isModerator: false });
    expect(store.wake.mock.calls).toEqual([['cancel:j1'], ['cancel:j2']]);
  });
});

describe('localCanceller (one process)', () => {
  const job = (id: string, userId: string) => ({ id, owner: { userId } }) as Job;

  it("cancels in this scheduler and notes who for the card; a refusal un-notes it", async () => {
    const cancelledBy = new Map<string, string>();
    const scheduler = {
      jobs: () => [],
      cancel: vi.fn(async (id: string) => {
        expect(cancelledBy.get(id)).toBe('mod');
        if (id === 'gone') throw new CancelError('not-found', id);
        if (id === 'theirs') throw new CancelError('not-yours', id);
        return 'cancelled' as const;
      }),
    };
    const canceller = localCanceller({ scheduler, cancelledBy });
    await expect(canceller.cancel('j1', { userId: 'mod', isModerator: true })).resolves.toEqual({ kind: 'ended', state: 'cancelled' });
    await expect(canceller.cancel('gone', { userId: 'mod', isModerator: true })).resolves.toEqual({ kind: 'refused', reason: 'finished' });
    await expect(canceller.cancel('theirs', { userId: 'mod', isModerator: true })).resolves.toEqual({ kind: 'refused', reason: 'not-yours' });
    expect([...cancelledBy]).toEqual([['j1', 'mod']]);
  });

  it("cancels the member's own jobs in this scheduler and counts those that ended cancelled", async () => {
    const scheduler = {
      jobs: () => [job('a', 'u1'), job('b', 'u1'), job('c', 'u2')],
      cancel: vi.fn(async (id: string) => (id === 'a' ? ('cancelled' as const) : ('succeeded' as const))),
    };
    await expect(localCanceller({ scheduler, cancelledBy: new Map() }).cancelAllOf('u1')).resolves.toEqual({ kind: 'ended', found: 2, cancelled: 1 });
    expect(scheduler.cancel.mock.calls.map((call) => call[0])).toEqual(['a', 'b']);
  });
});

describe('what the member is told', () => {
  it('after a Cancel press: nothing when the card says it, else why', () => {
    expect(cancelAnswer({ kind: 'ended', state: 'cancelled' })).toBeNull();
    expect(cancelAnswer({ kind: 'recorded', leaderUp: true })).toBeNull();
    expect(cancelAnswer({ kind: 'recorded', leaderUp: false })).toBe("Cancel recorded: the job stops as soon as the bot's leader picks it up, and its card will say so.");
    expect(cancelAnswer({ kind: 'refused', reason: 'finished' })).toBe('This job has already finished.');
    expect(cancelAnswer({ kind: 'refused', reason: 'already-requested' })).toBe('This job is already being cancelled.');
    expect(cancelAnswer({ kind: 'refused', reason: 'not-yours' })).toMatch(/^This is not your job/);
  });

  it('after /cancel, on one process and on several', () => {
    expect(cancelAllAnswer({ kind: 'ended', found: 0, cancelled: 0 })).toBe('You have no jobs waiting or running.');
    expect(cancelAllAnswer({ kind: 'ended', found: 3, cancelled: 2 })).toBe('Cancelled 2 of your 3 jobs (the others had already finished).');
    expect(cancelAllAnswer({ kind: 'recorded', found: 0, leaderUp: true })).toBe('You have no jobs waiting or running.');
    expect(cancelAllAnswer({ kind: 'recorded', found: 1, leaderUp: true })).toBe('Cancelling your 1 job: its card says so once stopped.');
    expect(cancelAllAnswer({ kind: 'recorded', found: 2, leaderUp: false })).toBe("Cancel recorded for your 2 jobs: they stop as soon as the bot's leader picks them up.");
  });
});
