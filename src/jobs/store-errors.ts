/** A job-store operation that cannot be done: the message names the job, setting or file concerned. */
export class StoreError extends Error {
  override name = 'StoreError';
}

/**
 * A write refused because another process has taken the leader lease since this store took it: its fencing
 * number is stale, so a leader that was paused or cut off past its lease cannot change anything when it wakes.
 */
export class FencedError extends StoreError {
  override name = 'FencedError';
  constructor(
    readonly fence: number,
    readonly current: number,
  ) {
    super(`write refused: this process's leader lease (fencing number ${fence}) was taken over (now ${current})`);
  }
}
