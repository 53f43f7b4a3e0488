// The bound on pending deliveries: results of a finished job are not kept and retried forever. Shared by start-up
// recovery (results already past the limit) and the running bot's retry rounds (src/discord/wiring/deliveryRetry.ts).
import type { JobStore } from './store.js';
import type { JobRow } from './store-types.js';

/** True when the job finished `maxAgeMs` or longer ago (its last write stands in for a missing finish time). */
export function deliveryOverdue(row: Pick<JobRow, 'finishedAt' | 'updatedAt'>, maxAgeMs: number, now: number): boolean {
  return now - (row.finishedAt ?? row.updatedAt) >= maxAgeMs;
}

export function overdueReason(maxAgeMs: number): string {
  const hours = Math.round(maxAgeMs / 360_000) / 10;
  return `they were not taken within ${hours} hour${hours === 1 ? '' : 's'}`;
}

/**
 * Fails a succeeded job whose results will not be delivered: no longer pending (so /queue stops listing it and
 * retention prunes it), with the reason as its error. Returns the error, or null when the job was no longer a
 * pending delivery (delivered or failed meanwhile).
 */
export function failUndeliverable(store: Pick<JobStore, 'get' | 'transition'>, row: Pick<JobRow, 'id'>, reason: string): string | null {
  // Read and write with no await between them: nothing can deliver the job in the meantime.
  if (store.get(row.id)?.delivery !== 'pending') return null;
  const error = `its results could not be delivered: ${reason}`;
  return store.transition(row.id, ['succeeded'], 'failed', { error, delivery: 'none' }) ? error : null;
}
