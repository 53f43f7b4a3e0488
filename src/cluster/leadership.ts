// What a process does with the lease: contend for it as a standby; once it leads, connect to the backends,
// listen for standbys' wakes, run start-up recovery (adopt in-flight prompts by id, resubmit what a backend lost,
// deliver what finished) and keep adopting the jobs standbys admit — on a wake, and on a sweep every third of
// the lease as a safety net for a wake missed. Cancel requests recorded in jobs' rows are carried out the same
// ways: a job adopted with one (at start-up or later) is cancelled before it can be dispatched, and the wake and
// the sweep pass on those recorded for jobs already held. A leader that loses the lease stops its scheduler at
// once and exits (EXIT_DEPOSED), so nothing it still held in memory can act; its supervisor starts it again, as a
// standby.
// It obeys the holds in the store (read on taking the lease, on a holds wake, on each sweep) and publishes its
// view of the queue and the backends for the standbys (view-publisher.ts).
import type { Logger } from '../config/logger.js';
import type { JobStore } from '../jobs/store.js';
import type { Job } from '../jobs/job.js';
import type { JobRow } from '../jobs/store-types.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { RecordedCancels } from './cancel-requests.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { parseWake } from './wakes.js';
import { listenForWakes, type WakeListener } from './wake-listener.js';

/** The exit code of a leader that lost its lease (EX_TEMPFAIL: start it again). */
export const EXIT_DEPOSED = 75;

export interface LeadershipDeps {
  keeper: LeaseKeeper;
  databaseUrl: string;
  store: Pick<JobStore, 'get' | 'cancelRequested'>;
  scheduler: Pick<Scheduler, 'get' | 'cancel' | 'close'>;
  /** Connects to the backends (a leader only). */
  startBackends(): Promise<void>;
  /**
   * Start-up recovery; with `only`, just the rows it accepts (and no pending deliveries). `adopted` is called for
   * each job taken into the scheduler, while dispatch is still held.
   */
  recover(options: { only?: (row: JobRow) => boolean; adopted: (job: Job, row: JobRow) => void }): void;
  /** The pending deliveries' retry loop, a leader's alone. */
  startDeliveries(): void;
  /** Who pressed Cancel, for the card. */
  noteCancel(jobId: string, userId: string): void;
  /** Reads the holds (`/comfy pause|drain`) from the store into the scheduler. */
  syncHolds(): void;
  /** Starts publishing the leader's view for the standbys; returns the stop. */
  publishView(): () => void;
  logger: Logger;
  /** Ends the process; default process.exit. */
  exit?: (code: number) => void;
  /** Opens the wake listener; default listenForWakes (tests pass their own). */
  listen?: typeof listenForWakes;
}

/** Starts contending; returns the stop (gives the lease up, closes the listener). */
export function startLeadership(deps: LeadershipDeps): () => Promise<void> {
  const { keeper, scheduler, logger } = deps;
  let listener: WakeListener | null = null;
  let sweeping: NodeJS.Timeout | undefined;
  let leading = false;
  let stopPublishing: (() => void) | undefined;

  const cancels = new RecordedCancels({ scheduler, noteCancel: deps.noteCancel, logger });
  // A queued job adopted with a request leaves the queue here, before dispatch is released: it never runs.
  const adopted = (_job: Job, row: JobRow): void => void cancels.carryOut(row);
  const sweep = (): void => {
    if (!leading) return;
    try {
      deps.recover({ only: (row) => row.state === 'queued' && scheduler.get(row.id) === undefined, adopted });
      for (const row of deps.store.cancelRequested()) cancels.carryOut(row);
    } catch (error) {
      logger.error({ err: error }, 'adopting new jobs or cancels from the store failed; the next sweep tries again');
    }
  };
  const syncHolds = (): void => {
    try {
      deps.syncHolds();
    } catch (error) {
      logger.error({ err: error }, 'reading the holds from the store failed; the next sweep tries again');
    }
  };
  const onWake = (payload: string): void => {
    const wake = parseWake(payload);
    if (!wake || !leading) return;
    if (wake.kind === 'holds') return syncHolds();
    if (wake.kind === 'job') return sweep();
    try {
      const row = deps.store.get(wake.jobId);
      // Held already: cancelled now. Not yet (admitted a moment ago): the sweep adopts it and cancels it unrun.
      if (row && !cancels.carryOut(row)) sweep();
    } catch (error) {
      logger.error({ err: error, job: wake.jobId }, 'reading a cancelled job failed; the next sweep carries the cancel out');
    }
  };

  keeper.on('gained', () => {
    void (async () => {
      await deps.startBackends();
      // Listening before recovery reads the store, so a job admitted meanwhile is woken for, not missed.
      listener = await (deps.listen ?? listenForWakes)(deps.databaseUrl, onWake, logger);
      if (keeper.role !== 'leader') return;
      leading = true;
      // The holds in force before recovery hands the scheduler any job (a new leader keeps the last one's pause),
      // read after LISTEN so a change meanwhile is woken for.
      deps.syncHolds();
      deps.recover({ adopted });
      deps.startDeliveries();
      stopPublishing = deps.publishView();
      // Holds ride the periodic sweep too (not a wake's), the safety net for a holds wake lost with a connection.
      sweeping = setInterval(() => {
        syncHolds();
        sweep();
      }, Math.max(100, Math.floor(keeper.ttlMs / 3)));
      logger.info('leading: backends connected, jobs recovered, listening for new jobs');
    })().catch((error: unknown) => {
      logger.fatal({ err: error }, 'could not take up leadership; exiting so the lease passes on');
      (deps.exit ?? process.exit)(EXIT_DEPOSED);
    });
  });
  keeper.on('lost', (reason) => {
    leading = false;
    clearInterval(sweeping);
    stopPublishing?.();
    // No job of ours may move again: the new leader adopts them from the store.
    scheduler.close();
    logger.fatal({ reason }, 'leadership lost: exiting at once so nothing this process holds acts again');
    (deps.exit ?? process.exit)(EXIT_DEPOSED);
  });
  keeper.start();
  return async () => {
    leading = false;
    clearInterval(sweeping);
    stopPublishing?.();
    keeper.stop();
    await listener?.close();
  };
}
