// Where a member's Cancel goes once the process that got it has decided they may cancel (the owner, or a
// moderator). One process (SQLite): straight to this process's scheduler, as always. Several processes sharing
// PostgreSQL: recorded in the job's row (who, moderator or not, when), then the leader is woken; the leader carries
// out every recorded request — on the wake, on its sweep and in its start-up recovery — so a cancel pressed while
// no leader is up (a failover) or whose wake was missed still stops the job.
import { cancelWake } from '../../cluster/wakes.js';
import type { FinalState } from '../../jobs/job.js';
import type { JobStore } from '../../jobs/store.js';
import { CancelError } from '../../scheduler/errors.js';
import type { CancelActor, Scheduler } from '../../scheduler/scheduler.js';

/** What became of one Cancel press. */
export type CancelOutcome =
  /** Carried out here: the job's final state (succeeded or failed when it ended first). */
  | { kind: 'ended'; state: FinalState }
  /** Recorded for the leader; `leaderUp` false while no process holds the lease (a failover). */
  | { kind: 'recorded'; leaderUp: boolean }
  | { kind: 'refused'; reason: 'finished' | 'not-yours' | 'already-requested' };

/** What became of `/cancel` (all of a member's jobs). */
export type CancelAllOutcome =
  | { kind: 'ended'; found: number; cancelled: number }
  | { kind: 'recorded'; found: number; leaderUp: boolean };

export interface JobCanceller {
  /** Cancels one job for `actor`, whom the caller has already found allowed to. */
  cancel(jobId: string, actor: CancelActor): Promise<CancelOutcome>;
  /** Cancels every unfinished job of the member (`/cancel`), as its owner. */
  cancelAllOf(userId: string): Promise<CancelAllOutcome>;
}

/** Who cancelled which job, for its card (BotContext.cancelledBy). */
type CancelledBy = Map<string, string>;

/** The only process: this scheduler holds every job. */
export function localCanceller(deps: { scheduler: Pick<Scheduler, 'cancel' | 'jobs'>; cancelledBy: CancelledBy }): JobCanceller {
  const { scheduler, cancelledBy } = deps;
  return {
    async cancel(jobId, actor) {
      cancelledBy.set(jobId, actor.userId);
      try {
        return { kind: 'ended', state: await scheduler.cancel(jobId, actor) };
      } catch (error) {
        cancelledBy.delete(jobId);
        if (!(error instanceof CancelError)) throw error;
        return { kind: 'refused', reason: error.refusal === 'not-yours' ? 'not-yours' : 'finished' };
      }
    },
    async cancelAllOf(userId) {
      const mine = scheduler.jobs().filter((job) => job.owner.userId === userId);
      for (const job of mine) cancelledBy.set(job.id, userId);
      const results = await Promise.allSettled(mine.map((job) => scheduler.cancel(job.id, { userId, isModerator: false })));
      for (const r of results) if (r.status === 'rejected' && !(r.reason instanceof CancelError)) throw r.reason;
      const cancelled = results.filter((r) => r.status === 'fulfilled' && r.value === 'cancelled').length;
      return { kind: 'ended', found: mine.length, cancelled };
    },
  };
}

/** Several processes: the request goes into the job's row, then the leader is woken. */
export function sharedCanceller(deps: {
  store: Pick<JobStore, 'requestCancel' | 'requestCancelsOf' | 'wake' | 'currentLease'>;
  now?: () => number;
}): JobCanceller {
  const { store } = deps;
  const now = deps.now ?? Date.now;
  const leaderUp = (): boolean => {
    const lease = store.currentLease();
    return lease !== null && lease.expiresAt > now();
  };
  return {
    async cancel(jobId, actor) {
      const result = store.requestCancel(jobId, actor);
      if (!result.recorded) return { kind: 'refused', reason: result.reason === 'already-requested' ? 'already-requested' : 'finished' };
      store.wake(cancelWake(jobId));
      return { kind: 'recorded', leaderUp: leaderUp() };
    },
    async cancelAllOf(userId) {
      const ids = store.requestCancelsOf(userId, { userId, isModerator: false });
      for (const id of ids) store.wake(cancelWake(id));
      return { kind: 'recorded', found: ids.length, leaderUp: leaderUp() };
    },
  };
}
