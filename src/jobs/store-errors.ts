/** A job-store operation that cannot be done: the message names the job, setting or file concerned. */
export class StoreError extends Error {
  override name = 'StoreError';
}
