// The port between start-up recovery and what runs jobs: recovery rebuilds the jobs the store holds unfinished
// and hands them over; the scheduler implements this to adopt them. So jobs/ needs nothing of the scheduler.
import type { Job, JobSpec } from './job.js';

/** A job that was submitted to a backend before a restart, to adopt. */
export interface InFlightJob {
  spec: JobSpec;
  backend: string;
  promptId: string;
  attempt: number;
  /**
   * When its time limit started counting (epoch ms): its dispatch, or the earliest later time known. The time
   * already spent counts, so a restart does not grant a fresh limit.
   */
  dispatchedAt: number;
  /** When it started running, if it had. */
  startedAt: number | null;
}

export interface RestoredJobs {
  queued: JobSpec[];
  inFlight: InFlightJob[];
  /** The queued jobs that were waiting for a backend (by id), and since when (epoch ms): the deadline goes on. */
  waitingSince?: ReadonlyMap<string, number>;
}

export interface JobAdopter {
  /** Holds dispatch, so that every restored job can be listened to before it first moves. */
  holdDispatch(): void;
  /** Lifts holdDispatch only: a pause the operators set stays (the leader adopts jobs while paused too). */
  releaseDispatch(): void;
  /**
   * Takes the jobs back: `queued` in their order (no limits applied), `inFlight` followed on their backend. An
   * in-flight job whose backend no longer exists goes back to the queue. Returns every job it took.
   */
  restore(state: RestoredJobs): Job[];
}
