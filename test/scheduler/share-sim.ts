// A discrete-event run of the real Scheduler on instant backends and a manual clock: jobs arrive at given times
// and each runs for a given time once dispatched. Used by the fair-share property tests and the `gpu-share` bench.
import { EventEmitter } from 'node:events';
import type { JobMode, JobSpec } from '../../src/jobs/job.js';
import { stampExecuted, type Backend, type BackendEvents, type BackendRun, type RunEvent, type RunOutcome } from '../../src/scheduler/backend.js';
import { Scheduler, type SchedulerOptions } from '../../src/scheduler/scheduler.js';
import { ManualClock } from './manual-clock.js';

export interface SimJob {
  userId: string;
  guildId: string | null;
  /** Arrival (ms from the start). */
  at: number;
  /** Execution time once dispatched (ms). */
  runMs: number;
  command?: string;
  roles?: string[];
  /** Asked for with relax allowed (fast when absent). */
  mode?: JobMode;
}

export interface SimRecord extends SimJob {
  dispatchedAt: number;
  endedAt: number;
  gpuMs: number;
  /** Dispatches (of anyone) between this job's arrival and its own dispatch. */
  dispatchesWaited: number;
  /** The backend it ran on, and the mode it ran in. */
  backend: string;
  ranAs: JobMode;
  /** Its place in the order of all dispatches. */
  dispatchSeq: number;
}

/**
 * How far relax jobs got in fast jobs' way. For each fast job, the relax jobs dispatched before it that were still
 * running when it arrived or started while it waited, counted per backend: the most on one backend for one fast
 * job (relax's promise: ≤ 1 per backend of capacity 1), and the most that started while it waited.
 */
export function relaxAhead(records: readonly SimRecord[]): { maxPerBackend: number; maxStartedWhileWaiting: number; fastJobs: number } {
  const relax = records.filter((r) => r.ranAs === 'relax');
  const fast = records.filter((r) => r.ranAs === 'fast');
  let maxPerBackend = 0;
  let maxStartedWhileWaiting = 0;
  for (const f of fast) {
    const ahead = relax.filter((r) => r.dispatchSeq < f.dispatchSeq && r.endedAt > f.at);
    const perBackend = new Map<string, number>();
    for (const r of ahead) perBackend.set(r.backend, (perBackend.get(r.backend) ?? 0) + 1);
    maxPerBackend = Math.max(maxPerBackend, ...perBackend.values());
    // Dispatches from its arrival on: those counted in its dispatchesWaited.
    const arrivedAtSeq = f.dispatchSeq - f.dispatchesWaited;
    maxStartedWhileWaiting = Math.max(maxStartedWhileWaiting, ahead.filter((r) => r.dispatchSeq >= arrivedAtSeq).length);
  }
  return { maxPerBackend, maxStartedWhileWaiting, fastJobs: fast.length };
}

/** A small deterministic generator (mulberry32): the same workload every run; `random(n)` is an integer in [0, n). */
export function seededRandom(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

type Pending = { at: number; fire: () => void };

class InstantRun implements BackendRun {
  readonly finished: Promise<RunOutcome>;
  resolve!: (o: RunOutcome) => void;
  private readonly listeners = new Set<(e: RunEvent) => void>();
  constructor(readonly promptId: string) {
    this.finished = new Promise((r) => (this.resolve = r));
  }
  subscribe(listener: (e: RunEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(e: RunEvent): void {
    for (const l of this.listeners) l(e);
  }
}

class InstantBackend extends EventEmitter<BackendEvents> implements Backend {
  readonly healthy = true;
  readonly capacity = 1;
  readonly weight = 1;
  readonly inventory = { nodeClasses: new Set(['KSampler']), models: new Set<string>(), folders: new Map<string, string[]>() };
  constructor(
    readonly name: string,
    private readonly onRun: (spec: JobSpec, run: InstantRun) => void,
  ) {
    super();
  }
  async run(spec: JobSpec, promptId: string): Promise<BackendRun> {
    const run = new InstantRun(promptId);
    this.onRun(spec, run);
    return run;
  }
  follow(): BackendRun {
    throw new Error('not used in the simulation');
  }
  async cancel(): Promise<'not-found'> {
    return 'not-found';
  }
}

const flush = () => new Promise<void>((r) => setImmediate(r));

/** Runs every job to its end; returns one record per job, in arrival order. */
export async function simulate(options: { backends: number; jobs: SimJob[]; scheduler?: Partial<SchedulerOptions> }): Promise<SimRecord[]> {
  const clock = new ManualClock(0);
  const pending: Pending[] = [];
  const records = new Map<string, SimRecord>();
  let dispatches = 0;
  const dispatchCount = new Map<string, number>();
  const backends = Array.from({ length: options.backends }, (_, i) =>
    new InstantBackend(`gpu${i}`, (spec, run) => {
      const record = records.get(spec.id!)!;
      record.dispatchedAt = clock.now();
      record.backend = `gpu${i}`;
      record.dispatchSeq = dispatches;
      record.ranAs = spec.mode ?? 'fast';
      record.dispatchesWaited = dispatches - dispatchCount.get(spec.id!)!;
      dispatches += 1;
      pending.push({
        at: clock.now(),
        fire: () => {
          run.emit({ type: 'started' });
          const end = clock.now() + record.runMs;
          pending.push({ at: end, fire: () => run.resolve(stampExecuted({ type: 'done', outputs: [] }, clock.now(), undefined)) });
        },
      });
    }),
  );
  const scheduler = new Scheduler({
    backends,
    limits: { perUserRunning: 1, perUserQueued: 100_000, minIntervalSeconds: 0 },
    maxTries: 1,
    timeoutSeconds: 86_400,
    clock,
    fairBy: 'gpu-time',
    ...options.scheduler,
  });
  const arrivals = options.jobs.map((job, i) => ({ job, id: `job-${i}` })).sort((a, b) => a.job.at - b.job.at);
  const done: Promise<unknown>[] = [];
  let next = 0;
  for (;;) {
    const due = Math.min(arrivals[next]?.job.at ?? Infinity, ...pending.map((p) => p.at));
    if (due === Infinity) break;
    if (due > clock.now()) clock.advance(due - clock.now());
    // Runs dispatched in an earlier step are attached by now (a flush ran since): their events reach the scheduler.
    for (const p of pending.filter((x) => x.at <= clock.now())) {
      pending.splice(pending.indexOf(p), 1);
      p.fire();
    }
    await flush();
    while (next < arrivals.length && arrivals[next]!.job.at <= clock.now()) {
      const { job, id } = arrivals[next++]!;
      records.set(id, { ...job, dispatchedAt: NaN, endedAt: NaN, gpuMs: NaN, dispatchesWaited: NaN, backend: '', ranAs: 'fast', dispatchSeq: NaN });
      dispatchCount.set(id, dispatches);
      const spec: JobSpec = {
        id,
        owner: { userId: job.userId, guildId: job.guildId, roles: job.roles ?? [] },
        command: job.command ?? 'draw',
        workflow: { '1': { class_type: 'KSampler', inputs: {} } },
        ...(job.mode ? { modeRequest: { preferred: job.mode, relaxAllowed: true } } : {}),
      };
      const submitted = scheduler.submit(spec);
      done.push(
        submitted.done.then(() => {
          const r = records.get(id)!;
          r.endedAt = clock.now();
          r.gpuMs = submitted.gpuMs ?? 0;
        }),
      );
    }
    await flush();
  }
  await Promise.all(done);
  scheduler.close();
  return arrivals.map(({ id }) => records.get(id)!);
}
