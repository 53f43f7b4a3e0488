// What members see between a leader's death and a standby taking over (up to the lease, 10 s by default): each
// standby watches the leader's heartbeat in the processes table, and once it is `LATE_PERIODS` renewal periods
// late (3 s by default) the standbys race for the store's claim on that lease; the winner, alone, tells the
// members on their cards (`tell`). Its edits must land before the lease can pass on, so `tell` gets a deadline a
// period before the lease expires: the next leader's first edit of each card then comes after the notice and
// replaces it. A leader released cleanly (a stop) is succeeded within a period, before it is ever late.
import type { Logger } from '../config/logger.js';
import type { JobStore } from '../jobs/store.js';
import type { LeaseKeeper } from './lease-keeper.js';

/** Missed renewal periods after which the leader is taken for lost. */
export const LATE_PERIODS = 3;

export interface LeaderLossWatchOptions {
  keeper: Pick<LeaseKeeper, 'role' | 'periodMs'>;
  store: Pick<JobStore, 'currentLease' | 'processes' | 'claimLeaderLoss'>;
  /** This process as the processes table and the lease name it. */
  processId: string;
  /** Tells the members; every edit sent before `deadline` (epoch ms). Resolves with the number of cards told. */
  tell(deadline: number): Promise<number>;
  logger: Logger;
  now?: () => number;
}

/** Starts watching (twice a renewal period); returns the stop. */
export function watchLeaderLoss(options: LeaderLossWatchOptions): () => void {
  const { keeper, store, processId, logger } = options;
  const now = options.now ?? Date.now;
  const lateMs = LATE_PERIODS * keeper.periodMs;
  /** The last lease this process asked to tell about: it asks once per lease. */
  let asked: number | null = null;

  const check = (): void => {
    if (keeper.role === 'leader') return;
    const lease = store.currentLease();
    if (lease === null || lease.holder === processId || lease.fence === asked) return;
    const at = now();
    const leader = store.processes().find((p) => p.id === lease.holder);
    // A leader silent for so long that its row was dropped is long past its lease: nothing to tell any more.
    const silentMs = at - (leader?.heartbeatAt ?? Number.NEGATIVE_INFINITY);
    if (silentMs <= lateMs) return;
    const deadline = lease.expiresAt - keeper.periodMs;
    if (at >= deadline) return;
    asked = lease.fence;
    if (!store.claimLeaderLoss(lease.fence, processId)) return;
    logger.warn({ leader: lease.holder, fence: lease.fence, silentMs }, 'the leader stopped renewing its lease: telling the members on their cards');
    void options.tell(deadline).then(
      (cards) => logger.info({ cards }, 'cards told that the leader was lost'),
      (error: unknown) => logger.error({ err: error }, 'could not tell the cards that the leader was lost'),
    );
  };
  const timer = setInterval(() => {
    try {
      check();
    } catch (error) {
      logger.debug({ err: error }, 'could not check on the leader; trying again');
    }
  }, Math.max(50, Math.floor(keeper.periodMs / 2)));
  return () => clearInterval(timer);
}
