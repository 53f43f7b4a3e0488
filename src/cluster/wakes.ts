// What standbys tell the leader over the wake channel (PostgreSQL NOTIFY payloads, at most 8000 bytes): a new
// queued job to adopt, or a cancel request recorded in a job's row. The row, not the wake, says who asked: a wake
// is only a nudge, and one missed is made up by the leader's periodic sweep.
export type Wake = { kind: 'job'; jobId: string } | { kind: 'cancel'; jobId: string };

export function jobWake(jobId: string): string {
  return `job:${jobId}`;
}

export function cancelWake(jobId: string): string {
  return `cancel:${jobId}`;
}

/** Null for a payload this version does not know (a newer process's, say): the periodic sweep covers it anyway. */
export function parseWake(payload: string): Wake | null {
  const parts = payload.split(':');
  if (parts.length !== 2 || !parts[1]) return null;
  if (parts[0] === 'job') return { kind: 'job', jobId: parts[1] };
  if (parts[0] === 'cancel') return { kind: 'cancel', jobId: parts[1] };
  return null;
}
