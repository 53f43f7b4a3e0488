// What standbys tell the leader over the wake channel (PostgreSQL NOTIFY payloads, at most 8000 bytes): a new
// queued job to adopt, a member's cancel press to carry out, or holds changed in the store (`/comfy pause|resume|
// drain` on any process). Decided on the standby (who may cancel, who may hold what), executed by the leader,
// whose scheduler holds the jobs.
export type Wake = { kind: 'job'; jobId: string } | { kind: 'cancel'; jobId: string; userId: string; isModerator: boolean } | { kind: 'holds' };

export function jobWake(jobId: string): string {
  return `job:${jobId}`;
}

export function cancelWake(jobId: string, userId: string, isModerator: boolean): string {
  return `cancel:${jobId}:${userId}:${isModerator ? 1 : 0}`;
}

/** The holds in the store changed: the leader reads them again (what changed is in the store, not the payload). */
export const HOLDS_WAKE = 'holds';

/** Null for a payload this version does not know (a newer process's, say): the periodic sweep covers jobs anyway. */
export function parseWake(payload: string): Wake | null {
  if (payload === HOLDS_WAKE) return { kind: 'holds' };
  const parts = payload.split(':');
  if (parts[0] === 'job' && parts.length === 2 && parts[1]) return { kind: 'job', jobId: parts[1] };
  if (parts[0] === 'cancel' && parts.length === 4 && parts[1] && parts[2] && (parts[3] === '0' || parts[3] === '1')) {
    return { kind: 'cancel', jobId: parts[1], userId: parts[2], isModerator: parts[3] === '1' };
  }
  return null;
}
