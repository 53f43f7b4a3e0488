// Refusals the scheduler gives callers, in words an owner can read. (Limit refusals are LimitError, limits.ts.)

/** The job cannot be accepted now: no backend can run it, or the queue is draining. */
export class UnavailableError extends Error {
  constructor(
    readonly reason: 'unsupported' | 'draining',
    message: string,
  ) {
    super(message);
    this.name = 'UnavailableError';
  }
}

export type CancelRefusal = 'not-yours' | 'not-found' | 'finished';

const CANCEL_MESSAGES: Record<CancelRefusal, string> = {
  'not-yours': 'this is not your job',
  'not-found': 'there is no such job',
  finished: 'this job has already finished',
};

export class CancelError extends Error {
  constructor(
    readonly refusal: CancelRefusal,
    readonly jobId: string,
  ) {
    super(CANCEL_MESSAGES[refusal]);
    this.name = 'CancelError';
  }
}

export class UnknownBackendError extends Error {
  constructor(readonly backend: string) {
    super(`there is no backend named ${backend}`);
    this.name = 'UnknownBackendError';
  }
}
