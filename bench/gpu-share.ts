// 9. GPU share: a mixed workload (heavy 60 s jobs, light 5 s jobs, equal demand by count) through the real
// scheduler on instant backends and a manual clock (test/scheduler/share-sim.ts), fair by GPU time against
// round-robin by turns (the policy before): GPU-time fairness between users while all are backlogged, and how
// long light users' jobs wait.
import { simulate, type SimJob, type SimRecord } from '../test/scheduler/share-sim.js';
import { atLeast, fixed, type BenchResult } from './report.js';
import { jainIndex, quantile } from './stats.js';

const BACKENDS = 4;
const USERS_EACH = 8;
const JOBS_EACH = 30;
const EVERY_MS = 20_000;

function workload(): SimJob[] {
  const jobs: SimJob[] = [];
  for (const [kind, runMs] of [['heavy', 60_000], ['light', 5_000]] as const) {
    for (let u = 0; u < USERS_EACH; u += 1) {
      // Each user submits at the same rate, offset so arrivals interleave.
      for (let i = 0; i < JOBS_EACH; i += 1) jobs.push({ userId: `${kind}${u}`, guildId: `g${u % 2}`, at: i * EVERY_MS + u * 1_000, runMs });
    }
  }
  return jobs;
}

interface Figures {
  jain: number;
  lightP95WaitS: number;
}

function figures(records: SimRecord[]): Figures {
  const users = [...new Set(records.map((r) => r.userId))];
  // While every user still has a job to come or waiting: up to the earliest of the users' last dispatches.
  const busyUntil = Math.min(...users.map((u) => Math.max(...records.filter((r) => r.userId === u).map((r) => r.dispatchedAt))));
  const gpu = users.map((u) => records.filter((r) => r.userId === u).reduce((sum, r) => sum + gpuBefore(r, busyUntil), 0));
  const lightWaits = records.filter((r) => r.userId.startsWith('light')).map((r) => (r.dispatchedAt - r.at) / 1000);
  return { jain: jainIndex(gpu), lightP95WaitS: quantile(lightWaits, 0.95, 'light waits') };
}

/** GPU ms a job used before `t` (a job running at `t` counts for its part). */
function gpuBefore(r: SimRecord, t: number): number {
  return Math.max(0, Math.min(r.endedAt, t) - r.dispatchedAt) * (r.gpuMs / Math.max(1, r.endedAt - r.dispatchedAt));
}

export async function runGpuShare(): Promise<BenchResult> {
  const jobs = workload();
  const fair = figures(await simulate({ backends: BACKENDS, jobs }));
  const turns = figures(await simulate({ backends: BACKENDS, jobs, scheduler: { fairBy: 'turns' } }));
  return {
    rows: [
      { benchmark: 'gpu-share', figure: "GPU-time Jain's index between users, all backlogged (fair share)", value: fixed(fair.jain, 3), target: atLeast(fair.jain, 0.95, '≥ 0.95') },
      { benchmark: 'gpu-share', figure: "GPU-time Jain's index between users, all backlogged (round-robin, before)", value: fixed(turns.jain, 3), target: null },
      { benchmark: 'gpu-share', figure: 'light jobs: p95 wait, fair share', value: `${fixed(fair.lightP95WaitS)} s`, target: null },
      { benchmark: 'gpu-share', figure: 'light jobs: p95 wait, round-robin (before)', value: `${fixed(turns.lightP95WaitS)} s`, target: null },
    ],
    method: [
      `${USERS_EACH} heavy users (60 s jobs) and ${USERS_EACH} light users (5 s jobs) in two servers, each submitting ${JOBS_EACH} jobs one every ${EVERY_MS / 1000} s (equal demand by count), on ${BACKENDS} backends of capacity 1; the real Scheduler on instant backends and a manual clock (test/scheduler/share-sim.ts), fairBy: 'gpu-time' (half-life 1 h) against fairBy: 'turns'`,
      "Jain's index over users' GPU time up to the earliest of the users' last dispatches (while every user has work to come or waiting); wait = arrival → dispatch",
    ],
  };
}
