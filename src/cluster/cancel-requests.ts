// The leader's side of a recorded cancel (see discord/wiring/canceller.ts): a job whose row carries a member's
// request is cancelled in this scheduler as a local press would be — a queued one leaves the queue unrun, a
// submitted one is interrupted on its backend — and the card is told who asked. Asking again while a run is being
// interrupted changes nothing (the scheduler stops a run once), so the wake, the sweep and start-up recovery may
// all pass the same request on.
import type { Logger } from '../config/logger.js';
import type { JobRow } from '../jobs/store-types.js';
import { CancelError } from '../scheduler/errors.js';
import type { Scheduler } from '../scheduler/scheduler.js';

export interface CancelRequestDeps {
  scheduler: Pick<Scheduler, 'get' | 'cancel'>;
  /** Who asked, for the card ("Cancelled by …"). */
  noteCancel(jobId: string, userId: string): void;
  logger: Logger;
}

/** Carries out the row's cancel request if it has one and this scheduler holds the job; true when it was handed on. */
export function carryOutCancel(deps: CancelRequestDeps, row: Pick<JobRow, 'id' | 'cancelRequest'>): boolean {
  const request = row.cancelRequest;
  if (request === null || deps.scheduler.get(row.id) === undefined) return false;
  deps.noteCancel(row.id, request.userId);
  void deps.scheduler.cancel(row.id, { userId: request.userId, isModerator: request.isModerator }).catch((error: unknown) => {
    // Refused: it ended meanwhile, or the asker's right changed under a newer version's rules; the row says who asked.
    if (!(error instanceof CancelError)) deps.logger.error({ err: error, job: row.id }, 'a recorded cancel failed');
    else deps.logger.warn({ job: row.id, refusal: error.refusal }, 'a recorded cancel was refused');
  });
  return true;
}
