// What a process tells the leader over the wake channel (PostgreSQL NOTIFY payloads, at most 8000 bytes): a new
// queued job to adopt, a cancel request recorded in a job's row, or holds changed in the store (`/comfy pause|
// resume|drain` on any process). The store, not the wake, says who asked and what changed: a wake is only a
// nudge, and one missed is made up by the leader's periodic sweep.
export type Wake = { kind: 'job'; jobId: string } | { kind: 'cancel'; jobId: string } | { kind: 'holds' };

export function jobWake(jobId: string): string {
  return `job:${jobId}`;
}

export function cancelWake(jobId: string): string {
  return `cancel:${jobId}`;
}

/** The holds in the store changed: the leader reads them again. */
export const HOLDS_WAKE = 'holds';

/** Null for a payload this version does not know (a newer process's, say): the periodic sweep covers it anyway. */
export function parseWake(payload: string): Wake | null {
  if (payload === HOLDS_WAKE) return { kind: 'holds' };
  const parts = payload.split(':');
  if (parts.length !== 2 || !parts[1]) return null;
  if (parts[0] === 'job') return { kind: 'job', jobId: parts[1] };
  if (parts[0] === 'cancel') return { kind: 'cancel', jobId: parts[1] };
  return null;
}
