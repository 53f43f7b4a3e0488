// The scale benchmark's workload and its fairness figures, as pure functions of what the scheduler recorded.
import { jainIndex } from './stats.js';

export type UserGroup = 'equal' | 'heavy' | 'light';

export interface PlannedJob {
  userId: string;
  group: UserGroup;
}

export interface ScalePlanOptions {
  equalUsers: number;
  equalJobs: number;
  heavyUsers: number;
  heavyJobs: number;
  lightUsers: number;
}

/**
 * `initial`: every heavy user's whole backlog, then every equal-demand user's jobs, each user's submitted
 * back to back (the order that makes a first-come-first-served queue unfair). `late`: one job per light user,
 * submitted once the backlog is in the queue.
 */
export function scalePlan(o: ScalePlanOptions): { initial: PlannedJob[]; late: PlannedJob[] } {
  for (const [name, value] of Object.entries(o)) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`scale plan: ${name} must be a whole number >= 0, got ${value}`);
  }
  const initial: PlannedJob[] = [];
  for (let u = 0; u < o.heavyUsers; u++) for (let j = 0; j < o.heavyJobs; j++) initial.push({ userId: `heavy-${u}`, group: 'heavy' });
  for (let u = 0; u < o.equalUsers; u++) for (let j = 0; j < o.equalJobs; j++) initial.push({ userId: `equal-${u}`, group: 'equal' });
  const late = Array.from({ length: o.lightUsers }, (_, u): PlannedJob => ({ userId: `light-${u}`, group: 'light' }));
  return { initial, late };
}

export interface JobRecord extends PlannedJob {
  submittedAt: number;
  /** Jobs dispatched before this one was submitted. */
  dispatchedBeforeSubmit: number;
  /** 0-based place in the order of first dispatches; null if never dispatched. */
  dispatchIndex: number | null;
  finishedAt: number | null;
  state: string;
}

/**
 * Jain's index over the equal-demand users of each user's throughput: jobs / (last finish − first submission).
 * Round-robin gives them all about the same; first-come-first-served gives early submitters far more.
 */
export function equalDemandFairness(records: readonly JobRecord[]): number {
  const perUser = new Map<string, { jobs: number; first: number; last: number }>();
  for (const r of records) {
    if (r.group !== 'equal') continue;
    if (r.finishedAt === null) throw new Error(`job of ${r.userId} never finished; fairness over unfinished work is undefined`);
    const u = perUser.get(r.userId) ?? { jobs: 0, first: Infinity, last: -Infinity };
    perUser.set(r.userId, { jobs: u.jobs + 1, first: Math.min(u.first, r.submittedAt), last: Math.max(u.last, r.finishedAt) });
  }
  return jainIndex([...perUser.values()].map((u) => u.jobs / Math.max(u.last - u.first, 1e-3)));
}

/**
 * For each light user's job: how many jobs each heavy user got dispatched while it waited. The most any one heavy
 * user got ahead of any light job: 1 means a light job waits at most one round, never behind a backlog.
 */
export function heavyJobsAheadOfLight(records: readonly JobRecord[]): number {
  const heavyByIndex = new Map<number, string>();
  for (const r of records) if (r.group === 'heavy' && r.dispatchIndex !== null) heavyByIndex.set(r.dispatchIndex, r.userId);
  let worst = 0;
  for (const light of records) {
    if (light.group !== 'light') continue;
    if (light.dispatchIndex === null) throw new Error(`the job of ${light.userId} was never dispatched`);
    const ahead = new Map<string, number>();
    for (let i = light.dispatchedBeforeSubmit; i < light.dispatchIndex; i++) {
      const heavy = heavyByIndex.get(i);
      if (heavy !== undefined) ahead.set(heavy, (ahead.get(heavy) ?? 0) + 1);
    }
    worst = Math.max(worst, ...ahead.values());
  }
  return worst;
}
