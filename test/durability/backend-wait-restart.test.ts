// A job that waits for a backend (every server able to run it down) keeps its deadline across a restart: the
// store keeps when the wait began, recovery hands it to the new scheduler, and the job fails when the first wait
// would have ended, not a whole `jobs.waitForBackendSeconds` after the restart. A manual clock, SQLite and the
// real scheduler, persistence and recovery; the column is tested on PostgreSQL with the store's suite.
import { afterEach, describe, expect, it } from 'vitest';
import { persistJob } from '../../src/jobs/persistence.js';
import { recoverJobs } from '../../src/jobs/recovery.js';
import { openJobStore, type JobStore } from '../../src/jobs/store.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { BackendDouble } from '../scheduler/backend-double.js';
import { ManualClock } from '../scheduler/manual-clock.js';
import { spec } from '../scheduler/helpers.js';
import { tempDataDir } from './life.js';

const NOTICE_MS = 3_000;
const WAIT_MS = 120_000;

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0).reverse()) c();
});

/** One life of the bot: a scheduler on one backend, down when it starts unless told otherwise. */
function life(clock: ManualClock, healthy = false): { scheduler: Scheduler; gpu: BackendDouble } {
  const gpu = new BackendDouble('gpu1');
  gpu.healthy = healthy;
  const scheduler = new Scheduler({
    backends: [gpu],
    limits: { perUserRunning: 1, perUserQueued: 10, minIntervalSeconds: 0 },
    limitOverrides: [],
    priorityRoles: [],
    maxTries: 3,
    timeoutSeconds: 600,
    outageNoticeMs: NOTICE_MS,
    waitForBackendMs: WAIT_MS,
    clock,
  });
  gpu.jobState = (id) => scheduler.get(id)?.state;
  cleanup.push(() => scheduler.close());
  return { scheduler, gpu };
}

function world(): { store: JobStore; clock: ManualClock } {
  const data = tempDataDir();
  const clock = new ManualClock();
  const store = openJobStore({ dataDir: data.dir, clock });
  cleanup.push(data.cleanup, () => store.close());
  return { store, clock };
}

/** A job submitted in this life, its row kept in step. */
function submit(store: JobStore, scheduler: Scheduler) {
  const job = scheduler.submit(spec('ann'));
  persistJob(store, job, { channelId: 'c1' });
  return job;
}

/** The next life, recovering what the store holds; `held`: the server's admins paused its jobs. */
function restart(store: JobStore, clock: ManualClock, { healthy = false, held = false } = {}) {
  const next = life(clock, healthy);
  if (held) next.scheduler.holdGuild('g1', 'paused');
  const { restored } = recoverJobs({ store, scheduler: next.scheduler, commands: () => undefined, maxTries: 3, now: () => clock.now() });
  return { ...next, job: restored[0]!.job };
}

describe('a job waiting for a backend, across a restart', () => {
  it('fails when its first wait ends, not a whole wait after the restart', async () => {
    const { store, clock } = world();
    const first = life(clock);
    const submittedAt = clock.now();
    const job = submit(store, first.scheduler);
    clock.advance(NOTICE_MS);
    expect(job.wait).toEqual({ reason: 'no-backend', since: submittedAt, until: submittedAt + WAIT_MS });
    expect(store.get(job.id)?.waitSince).toBe(submittedAt);

    clock.advance(60_000);
    first.scheduler.close();
    const second = restart(store, clock);
    clock.advance(NOTICE_MS);
    // The same wait, shown with its first start, not the restart.
    expect(second.job.wait).toEqual({ reason: 'no-backend', since: submittedAt, until: submittedAt + WAIT_MS });
    clock.advance(submittedAt + WAIT_MS - 1 - clock.now());
    expect(second.job.state).toBe('queued');
    clock.advance(1);
    await expect(second.job.done).resolves.toBe('failed');
    expect(second.job.error).toBe('all backends are down: no ComfyUI server able to run it came back within 2 minutes');
    expect(store.get(job.id)).toMatchObject({ state: 'failed', error: second.job.error });
  });

  it('counts a new wait once a backend came back after the restart, and forgets the stored start when it runs', async () => {
    const { store, clock } = world();
    const first = life(clock);
    const job = submit(store, first.scheduler);
    clock.advance(NOTICE_MS + 60_000);
    expect(store.get(job.id)?.waitSince).not.toBeNull();
    first.scheduler.close();

    // The backend is up again after the restart (the job is held by its server's pause), then goes down again.
    const second = restart(store, clock, { healthy: true, held: true });
    expect(second.job.state).toBe('queued');
    second.gpu.setHealthy(false);
    const downAgainAt = clock.now();
    clock.advance(NOTICE_MS);
    expect(second.job.wait).toEqual({ reason: 'no-backend', since: downAgainAt, until: downAgainAt + WAIT_MS });
    expect(store.get(job.id)?.waitSince).toBe(downAgainAt);

    second.scheduler.holdGuild('g1', null);
    second.gpu.setHealthy(true);
    const run = await second.gpu.running(0);
    expect(run.spec.id).toBe(job.id);
    expect(second.job.wait).toBeNull();
    expect(store.get(job.id)?.waitSince).toBeNull();
  });
});
