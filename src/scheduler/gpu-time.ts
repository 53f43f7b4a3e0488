// The GPU time charged for one run: how long the server executed it, times the backend's cost weight.
import type { Backend, RunOutcome } from './backend.js';

type Executed = Exclude<RunOutcome, { type: 'lost' }>;

/**
 * The server's own measure when it gave one. Else the bot's clock, from the job's recorded start (kept across
 * restarts) to the terminal message; but a run adopted after a restart is measured from its adoption at the
 * earliest, because the bot cannot tell when a run that ended while it was down ended: counting from the start
 * would charge the owner for the bot's downtime (and put them behind everyone in the fair share).
 * Null when nothing says the run started (it never left the server's queue): charged nothing.
 */
export function gpuTime(
  run: { startedAt: number | null; adoptedAt: number | null },
  outcome: Executed,
  now: number,
  backend: Pick<Backend, 'costWeight'>,
): number | null {
  const weight = backend.costWeight ?? 1;
  if (outcome.executionMs !== undefined) return outcome.executionMs * weight;
  if (run.startedAt === null) return null;
  const from = Math.max(run.startedAt, run.adoptedAt ?? -Infinity);
  return Math.max(0, (outcome.executedUntil ?? now) - from) * weight;
}
