// The scale benchmark's process: the backend pool and the Scheduler built from a configuration as main.ts builds
// them (ComfyBackend + ComfyClient per fake ComfyUI), no Discord. Submits the plan, records each job's submission,
// first dispatch and end, and its own CPU time and peak memory.
import { configSchema, type Limits } from '../../src/config/schema.js';
import type { Job } from '../../src/jobs/job.js';
import { createBackendPool, createScheduler } from '../../src/scheduler/from-config.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import type { JobRecord, PlannedJob } from '../fairness.js';
import { cpuSince, maxRss, now, serve, type ProcessFigures } from '../ipc.js';
import { quickWorkflow } from '../workload.js';

export interface ScaleParams {
  backends: { name: string; url: string }[];
  /** The fair-share policy under test (`fairShare.by`). */
  fairBy: 'gpu-time' | 'turns';
  limits: Limits;
  initial: PlannedJob[];
  late: PlannedJob[];
  /** The late jobs are submitted when this many jobs have finished. */
  lateAfterFinished: number;
}

export interface ScaleReport extends ProcessFigures {
  records: JobRecord[];
  wallMs: number;
  /** CPU time inside the scheduler's dispatch passes (choosing jobs, placing them, positions and ETAs): its own overhead. */
  schedulingMs: number;
}

/**
 * Times every dispatch pass (`pump`, private: an observation hook of the bench, like bench/sut/bot.ts's). Passes
 * do not nest (a pass asked for during one runs inside it), so the sum is the scheduler's own time.
 */
function timePasses(): () => number {
  const proto = Scheduler.prototype as unknown as { pump: () => void };
  const pass = proto.pump;
  let total = 0;
  let depth = 0;
  proto.pump = function (this: Scheduler) {
    // CPU time, not wall time: other processes on the machine do not count.
    const t0 = depth === 0 ? process.cpuUsage() : null;
    depth += 1;
    try {
      pass.call(this);
    } finally {
      depth -= 1;
      if (t0) {
        const used = process.cpuUsage(t0);
        total += (used.user + used.system) / 1000;
      }
    }
  };
  return () => total;
}

const backends: ReturnType<typeof createBackendPool> = [];
let scheduler: Scheduler | undefined;

async function run(p: ScaleParams): Promise<ScaleReport> {
  const config = configSchema.parse({ backends: p.backends, limits: p.limits, fairShare: { by: p.fairBy } });
  const schedulingMs = timePasses();
  backends.push(...createBackendPool(config));
  await Promise.all(backends.map((b) => b.start()));
  const down = backends.filter((b) => !b.healthy).map((b) => b.name);
  if (down.length > 0) throw new Error(`backends not healthy after their first probe: ${down.join(', ')}`);
  const sched = createScheduler(config, backends);
  scheduler = sched;
  const records: JobRecord[] = [];
  let dispatched = 0;
  let finished = 0;
  let seed = 0;
  const total = p.initial.length + p.late.length;
  const cpuStart = process.cpuUsage();
  const started = now();
  let allDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  let lateSent = false;
  const submit = (planned: PlannedJob) => {
    const record: JobRecord = { ...planned, submittedAt: now(), dispatchedBeforeSubmit: dispatched, dispatchIndex: null, finishedAt: null, state: 'queued' };
    records.push(record);
    seed += 1;
    const job: Job = sched.submit({ owner: { userId: planned.userId, guildId: 'bench', roles: [] }, command: 'quick', workflow: quickWorkflow(seed) });
    job.on('state', (s) => {
      if (s.state === 'dispatched' && record.dispatchIndex === null) record.dispatchIndex = dispatched++;
    });
    void job.done.then((state) => {
      record.finishedAt = now();
      record.state = state;
      finished += 1;
      if (!lateSent && finished >= p.lateAfterFinished) {
        lateSent = true;
        for (const l of p.late) submit(l);
      }
      if (finished === total) allDone();
    });
  };
  for (const planned of p.initial) submit(planned);
  await done;
  return { records, wallMs: now() - started, schedulingMs: schedulingMs(), ...cpuSince(cpuStart), maxRssBytes: maxRss() };
}

serve({ run: (p: ScaleParams) => run(p) }, async () => {
  scheduler?.close();
  await Promise.allSettled(backends.map((b) => b.stop()));
});
