// The GPU time charged for one run: how long the server executed it (from the job's recorded start, which the
// store keeps across restarts, to the server's terminal message) times the backend's cost weight.
import type { Backend } from './backend.js';

export function gpuTime(startedAt: number, executedUntil: number, backend: Pick<Backend, 'costWeight'>): number {
  return Math.max(0, executedUntil - startedAt) * (backend.costWeight ?? 1);
}
