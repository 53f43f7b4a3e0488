// 10. Relax: backends kept busy by relax jobs while fast jobs arrive at random, through the real scheduler on
// instant backends and a manual clock (test/scheduler/share-sim.ts): how many relax jobs got ahead of a waiting
// fast job on one backend (relax's promise: at most the one already running there), and what the relax load
// costs fast jobs' waits against the same fast jobs alone.
import { relaxAhead, seededRandom, simulate, type SimJob, type SimRecord } from '../test/scheduler/share-sim.js';
import { atMost, fixed, type BenchResult } from './report.js';
import { quantile } from './stats.js';

const BACKENDS = 8;
const RELAX_USERS = 6;
const RELAX_JOBS_EACH = 60;
const FAST_USERS = 20;
const FAST_JOBS = 300;
const WINDOW_MS = 30 * 60_000;
const LIMITS = { perUserRunning: BACKENDS, perUserQueued: 100_000, minIntervalSeconds: 0 };

function workload(): { fast: SimJob[]; relax: SimJob[] } {
  const random = seededRandom(2026);
  const relax: SimJob[] = [];
  for (let u = 0; u < RELAX_USERS; u += 1) {
    for (let i = 0; i < RELAX_JOBS_EACH; i += 1) relax.push({ userId: `relax${u}`, guildId: `g${u % 2}`, at: 0, runMs: 30_000 + random(60_000), mode: 'relax' });
  }
  const fast: SimJob[] = [];
  for (let i = 0; i < FAST_JOBS; i += 1) fast.push({ userId: `fast${random(FAST_USERS)}`, guildId: `g${random(2)}`, at: random(WINDOW_MS), runMs: 5_000 + random(35_000) });
  return { fast, relax };
}

const fastWaits = (records: SimRecord[]) => records.filter((r) => r.ranAs === 'fast').map((r) => (r.dispatchedAt - r.at) / 1000);

export async function runRelax(): Promise<BenchResult> {
  const { fast, relax } = workload();
  const mixed = await simulate({ backends: BACKENDS, jobs: [...relax, ...fast], scheduler: { limits: LIMITS } });
  const alone = await simulate({ backends: BACKENDS, jobs: fast, scheduler: { limits: LIMITS } });
  const ahead = relaxAhead(mixed);
  const ranRelax = mixed.filter((r) => r.ranAs === 'relax').length;
  const p95Mixed = quantile(fastWaits(mixed), 0.95, 'fast waits with relax load');
  const p95Alone = quantile(fastWaits(alone), 0.95, 'fast waits alone');
  const maxMixed = Math.max(...fastWaits(mixed));
  return {
    rows: [
      { benchmark: 'relax', figure: `most relax jobs ahead of a waiting fast job on one backend (${ahead.fastJobs} fast jobs)`, value: String(ahead.maxPerBackend), target: atMost(ahead.maxPerBackend, 1, '≤ 1 per backend') },
      { benchmark: 'relax', figure: 'most relax jobs started while a fast job waited', value: String(ahead.maxStartedWhileWaiting), target: atMost(ahead.maxStartedWhileWaiting, 0, '0') },
      { benchmark: 'relax', figure: 'fast jobs: p95 wait with the relax load / alone', value: `${fixed(p95Mixed)} s / ${fixed(p95Alone)} s (max ${fixed(maxMixed)} s; relax jobs run 30–90 s)`, target: null },
      { benchmark: 'relax', figure: 'relax jobs run', value: `${ranRelax} of ${relax.length}`, target: null },
    ],
    method: [
      `${RELAX_USERS} relax users × ${RELAX_JOBS_EACH} jobs of 30–90 s queued at once (backlogged for the whole run) and ${FAST_JOBS} fast jobs of 5–40 s from ${FAST_USERS} users arriving at seeded random times over ${WINDOW_MS / 60_000} min, on ${BACKENDS} backends of capacity 1; the real Scheduler (fair share by GPU time, relax slowdown 0.5) on instant backends and a manual clock (test/scheduler/share-sim.ts); limits ${JSON.stringify(LIMITS)}, so a waiting fast job could always start`,
      'relax jobs ahead of a fast job = relax jobs dispatched before it and still running when it arrived or started while it waited, counted per backend (share-sim.ts relaxAhead); wait = arrival → dispatch; "alone" = the same fast jobs with no relax jobs',
    ],
  };
}
