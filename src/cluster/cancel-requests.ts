// The leader's side of a recorded cancel (see discord/wiring/canceller.ts): a job whose row carries a member's
// request is cancelled in this scheduler as a local press would be — a queued one leaves the queue unrun, a
// submitted one is interrupted on its backend — and the card is told who asked. The wake, the sweep and recovery
// may all find the same request; each job's is handed to the scheduler once.
import type { Logger } from '../config/logger.js';
import type { JobRow } from '../jobs/store-types.js';
import { CancelError } from '../scheduler/errors.js';
import type { Scheduler } from '../scheduler/scheduler.js';

export interface RecordedCancelsDeps {
  scheduler: Pick<Scheduler, 'get' | 'cancel'>;
  /** Who asked, for the card ("Cancelled by …"). */
  noteCancel(jobId: string, userId: string): void;
  logger: Logger;
}

export class RecordedCancels {
  /** Jobs whose request the scheduler has (until the job ends; a refused one stays, so it is not asked again). */
  private readonly handed = new Set<string>();

  constructor(private readonly deps: RecordedCancelsDeps) {}

  /** Carries out the row's request if it has one and this scheduler holds the job; false when it does not hold it. */
  carryOut(row: Pick<JobRow, 'id' | 'cancelRequest'>): boolean {
    const { scheduler, logger } = this.deps;
    const request = row.cancelRequest;
    if (request === null || scheduler.get(row.id) === undefined) return false;
    if (this.handed.has(row.id)) return true;
    this.handed.add(row.id);
    this.deps.noteCancel(row.id, request.userId);
    scheduler.cancel(row.id, { userId: request.userId, isModerator: request.isModerator }).then(
      () => this.handed.delete(row.id),
      (error: unknown) => {
        // The scheduler checks again what the pressing process decided (the owner, or a moderator then).
        if (error instanceof CancelError) logger.warn({ job: row.id, refusal: error.refusal }, 'a recorded cancel was refused');
        else logger.error({ err: error, job: row.id }, 'a recorded cancel failed');
      },
    );
    return true;
  }
}
