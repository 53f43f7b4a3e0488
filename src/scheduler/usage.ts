// What the submission limiter remembers per user (the daily count and the last admission), behind one interface:
// kept in memory for tests and the `run` CLI, kept in the job store by the bot so a restart resets no quota.
import type { JobMode } from '../jobs/job.js';
import { utcDay } from '../jobs/store.js';

export interface SubmissionUsage {
  /** Admissions of the user on the UTC day that contains `now`. */
  countOnDay(userId: string, now: number): number;
  /** When the user was last admitted (epoch ms), if ever. */
  lastAt(userId: string): number | undefined;
  /** Counts one admission at `now`. */
  record(userId: string, now: number): void;
  /** A refused attempt at `now`: starts the interval (`lastAt`), not counted in the day. */
  noteAttempt(userId: string, now: number): void;
  /** GPU ms charged to the user's jobs (of one mode, or all) that finished at or after `sinceMs`. */
  gpuMsSince(userId: string, sinceMs: number, mode?: JobMode): number;
  /** A finished job's GPU time (the store has it in the job's row already; memory keeps it here). */
  chargeGpu(userId: string, ms: number, at: number, mode: JobMode): void;
}

/** Forgets everything with the process. */
export class MemoryUsage implements SubmissionUsage {
  private readonly last = new Map<string, number>();
  private readonly daily = new Map<string, { day: string; count: number }>();

  countOnDay(userId: string, now: number): number {
    const used = this.daily.get(userId);
    return used?.day === utcDay(now) ? used.count : 0;
  }

  lastAt(userId: string): number | undefined {
    return this.last.get(userId);
  }

  record(userId: string, now: number): void {
    this.daily.set(userId, { day: utcDay(now), count: this.countOnDay(userId, now) + 1 });
    this.last.set(userId, now);
  }

  noteAttempt(userId: string, now: number): void {
    this.last.set(userId, now);
  }

  private readonly gpu = new Map<string, { at: number; ms: number; mode: JobMode }[]>();

  gpuMsSince(userId: string, sinceMs: number, mode?: JobMode): number {
    return (this.gpu.get(userId) ?? []).filter((c) => c.at >= sinceMs && (mode === undefined || c.mode === mode)).reduce((sum, c) => sum + c.ms, 0);
  }

  chargeGpu(userId: string, ms: number, at: number, mode: JobMode): void {
    // Only this month's charges can count in a quota: older ones are dropped as new ones come.
    const monthAgo = at - 31 * 86_400_000;
    this.gpu.set(userId, [...(this.gpu.get(userId) ?? []).filter((c) => c.at >= monthAgo), { at, ms, mode }]);
  }
}

/** The parts of the job store the persistent usage reads and writes (`JobStore` has them). */
export interface UsageStore {
  addUsage(userId: string, amount?: number): number;
  usage(userId: string, day?: string): number;
  lastCreatedAt(userId: string): number | undefined;
  gpuMsSince(userId: string, sinceMs: number, mode?: JobMode): number;
}

/**
 * Usage kept in the store: the daily count in its usage table, the last admission as the creation time of the
 * user's newest job row. Admissions of this process are also remembered here, because the caller writes the
 * job's row only after `submit` returns.
 */
export function storeUsage(store: UsageStore): SubmissionUsage {
  const last = new Map<string, number>();
  return {
    countOnDay: (userId, now) => inStore(userId, 'read the daily usage', () => store.usage(userId, utcDay(now))),
    lastAt: (userId) => last.get(userId) ?? inStore(userId, 'read the last submission', () => store.lastCreatedAt(userId)),
    record: (userId, now) => {
      inStore(userId, 'count the submission', () => store.addUsage(userId));
      last.set(userId, now);
    },
    // Kept in memory only: a restart forgives a refused attempt, never an admission.
    noteAttempt: (userId, now) => void last.set(userId, now),
    gpuMsSince: (userId, sinceMs, mode) => inStore(userId, 'read the GPU time', () => store.gpuMsSince(userId, sinceMs, mode)),
    // The job's row carries its GPU time (written with its final state by persistence).
    chargeGpu: () => undefined,
  };
}

/** A store failure refuses the submission (never admits it uncounted), saying what could not be done. */
function inStore<T>(userId: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`could not ${what} of user ${userId} in the job store: ${reason}`, { cause: error });
  }
}
