// Shared set-up for scheduler tests: a scheduler on scripted backends and a manual clock.
import type { LimitOverride, Limits } from '../../src/config/schema.js';
import type { JobSpec } from '../../src/jobs/job.js';
import { LimitError } from '../../src/scheduler/limits.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { BackendDouble } from './backend-double.js';
import { ManualClock } from './manual-clock.js';

const WORKFLOW = {
  '3': { class_type: 'KSampler', inputs: { seed: 1, steps: 20 }, _meta: { title: 'Sampler' } },
  '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'out' } },
};

export function spec(userId: string, extra: Partial<JobSpec> = {}): JobSpec {
  return { owner: { userId, guildId: 'g1', roles: [] }, command: 'draw', workflow: structuredClone(WORKFLOW), ...extra };
}

export function withModel(userId: string, model: string): JobSpec {
  return spec(userId, {
    workflow: { ...structuredClone(WORKFLOW), '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: model } } },
  });
}

/** The LimitError `fn` throws; any other outcome (another error, or no throw) fails the test. */
export function refusal(fn: () => unknown): LimitError {
  try {
    fn();
  } catch (e) {
    if (e instanceof LimitError) return e;
    throw e;
  }
  throw new Error('expected a LimitError, but nothing was thrown');
}

export function setup(
  opts: {
    backends?: BackendDouble[];
    limits?: Partial<Limits>;
    limitOverrides?: LimitOverride[];
    priorityRoles?: string[];
    maxTries?: number;
    timeoutSeconds?: number;
    outageNoticeMs?: number;
    waitForBackendMs?: number;
  } = {},
) {
  const clock = new ManualClock();
  const backends = opts.backends ?? [new BackendDouble('gpu1')];
  const scheduler = new Scheduler({
    backends,
    limits: { perUserRunning: 1, perUserQueued: 10, minIntervalSeconds: 0, ...opts.limits },
    limitOverrides: opts.limitOverrides ?? [],
    priorityRoles: opts.priorityRoles ?? [],
    maxTries: opts.maxTries ?? 3,
    timeoutSeconds: opts.timeoutSeconds ?? 600,
    ...(opts.outageNoticeMs !== undefined ? { outageNoticeMs: opts.outageNoticeMs } : {}),
    ...(opts.waitForBackendMs !== undefined ? { waitForBackendMs: opts.waitForBackendMs } : {}),
    clock,
  });
  for (const b of backends) b.jobState = (id) => scheduler.get(id)?.state;
  return { clock, scheduler, backends, gpu: backends[0]! };
}

/** The label a test put in the job's params (e.g. "a2"), else its owner. */
export function label(run: { spec: JobSpec }): string {
  return String(run.spec.params?.label ?? run.spec.owner.userId);
}
