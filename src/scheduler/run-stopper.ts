// Stopping runs: a job's time limit, a cancel of a submitted job, and the grace period after either. A stop is
// asked of the backend (dequeue or interrupt); a run that does not end within the grace is abandoned, so a server
// that ignores the interrupt, or a submit that never returns, cannot hold a job or its slot forever.
import type { Logger } from '../config/logger.js';
import type { Job } from '../jobs/job.js';
import type { Backend, BackendRun } from './backend.js';
import type { Clock, TimerHandle } from './clock.js';

export type StopReason = 'cancel' | 'timeout';

/** How a stopped job ends: cancelled, or failed with the reason its owner reads. */
export type StopEnding = { type: 'cancelled' } | { type: 'failed'; message: string };

/** The parts of a scheduled job the stopper reads, and the two fields only it writes. */
export interface Stoppable {
  readonly job: Job;
  /** The backend holding the job's slot, and the run followed there (null until its submit returns). */
  readonly backend: Backend | null;
  readonly run: BackendRun | null;
  /** Why a stop was asked for; null while the job may run on. */
  stop: StopReason | null;
  /** The time limit until a stop is asked for, then the stop's grace period. */
  timer: TimerHandle | null;
}

export interface RunStopperOptions<E extends Stoppable> {
  clock: Clock;
  logger: Logger;
  /** A run longer than this is stopped and its job failed. */
  timeoutSeconds: number;
  /**
   * The run of a stopped job will send no end of its own (it was dequeued, or the grace passed): free the slot,
   * end the job so, and dispatch again.
   */
  ended(entry: E, ending: StopEnding): void;
}

/**
 * How long a stopped run may take to end before the job is ended without it: a quarter of the time limit, at
 * most 30 s (a short limit, as in tests, gets a short grace).
 */
function stopGraceMs(timeoutSeconds: number): number {
  return Math.min(30_000, timeoutSeconds * 250);
}

/** "30 minutes", "1 minute", "90 s". */
function describeSeconds(seconds: number): string {
  if (seconds % 60 !== 0) return `${seconds} s`;
  const minutes = seconds / 60;
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

export class RunStopper<E extends Stoppable> {
  constructor(private readonly options: RunStopperOptions<E>) {}

  /** Starts the job's time limit, counting from `since` (its dispatch, or an adopted run's stored dispatch). */
  armTimeLimit(entry: E, since: number): void {
    const { clock, timeoutSeconds } = this.options;
    const limitMs = timeoutSeconds * 1000;
    const left = Math.min(limitMs, Math.max(0, since + limitMs - clock.now()));
    this.setTimer(entry, () => this.request(entry, 'timeout'), left);
  }

  /** Asks the job's run to stop (once); without a run yet, `runAttached` sends the request when there is one. */
  request(entry: E, reason: StopReason): void {
    if (entry.stop) return;
    entry.stop = reason;
    this.setTimer(entry, () => this.abandon(entry), stopGraceMs(this.options.timeoutSeconds));
    if (entry.run) this.stopRun(entry, entry.run);
  }

  /** The job's submit returned its run: a stop asked for meanwhile goes to it now. */
  runAttached(entry: E, run: BackendRun): void {
    if (entry.stop) this.stopRun(entry, run);
  }

  /** How the job ends now that its run has ended or failed to start, if a stop was asked for; null otherwise. */
  endingOf(entry: E): StopEnding | null {
    if (entry.stop === 'timeout') return { type: 'failed', message: `took longer than ${this.options.timeoutSeconds} s and was stopped` };
    return entry.stop === 'cancel' ? { type: 'cancelled' } : null;
  }

  /** Clears the job's timer (its slot is freed, or the scheduler closes). */
  clear(entry: E): void {
    if (entry.timer) this.options.clock.clearTimeout(entry.timer);
    entry.timer = null;
  }

  private stopRun(entry: E, run: BackendRun): void {
    entry.backend!.cancel(run.promptId).then(
      (result) => {
        // A dequeued prompt never runs, so no terminal event may come: end it here. Otherwise the run's own
        // end decides (interrupted → cancelled, or done if it finished first).
        if (result === 'dequeued' && entry.run === run) this.options.ended(entry, this.endingOf(entry)!);
      },
      (error: unknown) => this.options.logger.warn({ job: entry.job.id, err: error }, 'cancel request failed; waiting for the run to end'),
    );
  }

  /**
   * The stop's grace period passed and the run has not ended: the job ends now and its slot is freed. Freeing the
   * slot detaches the run, so its late end (even a success) can neither deliver nor change the final state.
   */
  private abandon(entry: E): void {
    const { job } = entry;
    this.options.logger.warn(
      { job: job.id, backend: job.backend, promptId: job.promptId, stop: entry.stop },
      'run did not stop in time; ending the job without it',
    );
    const limit = describeSeconds(this.options.timeoutSeconds);
    this.options.ended(entry, entry.stop === 'timeout' ? { type: 'failed', message: `did not stop after its time limit of ${limit}` } : { type: 'cancelled' });
  }

  /** The entry has at most one timer: setting one replaces the previous. */
  private setTimer(entry: E, fn: () => void, ms: number): void {
    const { clock } = this.options;
    if (entry.timer) clock.clearTimeout(entry.timer);
    entry.timer = clock.setTimeout(() => {
      entry.timer = null;
      fn();
    }, ms);
  }
}
