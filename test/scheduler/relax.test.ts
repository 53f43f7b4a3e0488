// Relax mode in the scheduler: which mode a submission runs in, relax jobs behind fast ones and slowed by use,
// relax GPU time outside the fast quota, and the mode kept through the store and a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Limits } from '../../src/config/schema.js';
import type { JobMode, ModeRequest } from '../../src/jobs/job.js';
import { MIGRATIONS } from '../../src/jobs/migrations.js';
import { persistJob } from '../../src/jobs/persistence.js';
import { openJobStore, type JobStore } from '../../src/jobs/store.js';
import { LimitError } from '../../src/scheduler/limits.js';
import { decideMode, relaxDelayMs } from '../../src/scheduler/relax.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { MemoryUsage } from '../../src/scheduler/usage.js';
import { BackendDouble, output } from './backend-double.js';
import { label, refusal, spec } from './helpers.js';
import { ManualClock } from './manual-clock.js';
import { relaxAhead, seededRandom, simulate, type SimJob } from './share-sim.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0).reverse()) c();
});

const LIMITS: Limits = { perUserRunning: 1, perUserQueued: 10, minIntervalSeconds: 0, dailyGpuMinutes: 1 };
const relaxOk = (preferred: JobMode = 'fast'): ModeRequest => ({ preferred, relaxAllowed: true });
const noRelax = (preferred: JobMode = 'fast'): ModeRequest => ({ preferred, relaxAllowed: false });

function setup(opts: { backends?: BackendDouble[]; slowdown?: number; limits?: Partial<Limits> } = {}) {
  const clock = new ManualClock();
  const usage = new MemoryUsage();
  const backends = opts.backends ?? [new BackendDouble('gpu1')];
  const scheduler = new Scheduler({
    backends,
    limits: { ...LIMITS, ...opts.limits },
    maxTries: 3,
    timeoutSeconds: 600,
    usage,
    clock,
    ...(opts.slowdown !== undefined ? { relaxSlowdown: opts.slowdown } : {}),
  });
  cleanup.push(() => scheduler.close());
  return { clock, usage, scheduler, gpu: backends[0]! };
}

/** Runs the next run on `gpu` for `ms` of GPU time and ends it. */
async function runFor(gpu: BackendDouble, index: number, clock: ManualClock, ms: number): Promise<string> {
  const run = await gpu.running(index);
  run.start();
  clock.advance(ms);
  run.end({ type: 'done', outputs: [output('x')], executedUntil: clock.now() });
  await new Promise((r) => setImmediate(r));
  return label(run);
}

describe('the mode a submission runs in', () => {
  it('is fast while fast time is left; relax once it is used up where relax is allowed; else refused with the reset', () => {
    const usage = new MemoryUsage();
    const now = Date.UTC(2026, 5, 10, 15, 0, 0);
    expect(decideMode(usage, 'ann', LIMITS, noRelax(), now)).toBe('fast');
    expect(decideMode(usage, 'ann', LIMITS, relaxOk('relax'), now)).toBe('relax');
    // Chose relax where it is not allowed: fast (counted), never a way around the quota.
    expect(decideMode(usage, 'ann', LIMITS, noRelax('relax'), now)).toBe('fast');
    usage.chargeGpu('ann', 60_000, now - 1_000, 'fast');
    expect(decideMode(usage, 'ann', LIMITS, relaxOk(), now)).toBe('relax');
    const refused = refusal(() => decideMode(usage, 'ann', LIMITS, noRelax(), now));
    expect(refused).toBeInstanceOf(LimitError);
    expect(refused.limit).toBe('dailyGpu');
    expect(refused.message).toBe('Daily GPU time used up (1 min of 1 min); it resets at 00:00 UTC');
    expect(refused.retryAt?.toISOString()).toBe('2026-06-11T00:00:00.000Z');
    // Relax GPU time does not count in the fast quota.
    usage.chargeGpu('bob', 600_000, now - 1_000, 'relax');
    expect(decideMode(usage, 'bob', LIMITS, noRelax(), now)).toBe('fast');
  });

  it('slows relax down with use: slowdown × the relax GPU time used today', () => {
    const usage = new MemoryUsage();
    const now = Date.UTC(2026, 5, 10, 15, 0, 0);
    usage.chargeGpu('ann', 600_000, now - 3_600_000, 'relax');
    usage.chargeGpu('ann', 60_000, now - 3_600_000, 'fast');
    usage.chargeGpu('ann', 999_000, Date.UTC(2026, 5, 9, 23, 0, 0), 'relax'); // yesterday: forgiven
    expect(relaxDelayMs(usage, 'ann', 0.5, now)).toBe(300_000);
    expect(relaxDelayMs(usage, 'ann', 0, now)).toBe(0);
    expect(relaxDelayMs(usage, 'bob', 0.5, now)).toBe(0);
  });
});

describe('relax jobs in the scheduler', () => {
  it('run after every fast job, the card order says so, and their GPU time stays out of the fast quota', async () => {
    const { scheduler, gpu, clock, usage } = setup();
    scheduler.pause();
    const relax = scheduler.submit(spec('ann', { params: { label: 'relax' }, modeRequest: relaxOk('relax') }));
    const fast = scheduler.submit(spec('bob', { params: { label: 'fast' }, modeRequest: relaxOk() }));
    expect([relax.mode, fast.mode]).toEqual(['relax', 'fast']);
    expect(scheduler.position(fast.id)?.global).toBe(0);
    expect(scheduler.position(relax.id)?.global).toBe(1);
    scheduler.resume();
    expect(await runFor(gpu, 0, clock, 5_000)).toBe('fast');
    expect(await runFor(gpu, 1, clock, 90_000)).toBe('relax');
    expect(relax.gpuMs).toBe(90_000);
    expect(usage.gpuMsSince('ann', 0, 'fast')).toBe(0);
    expect(usage.gpuMsSince('ann', 0, 'relax')).toBe(90_000);
    // A minute and a half of relax: the 1-minute fast quota is untouched.
    expect(scheduler.check({ owner: { userId: 'ann', guildId: 'g1', roles: [] }, command: 'draw', modeRequest: noRelax() })).toBe('fast');
  });

  it('start only when no fast job that could start waits; a fast job that arrives waits for at most the relax job running', async () => {
    const { scheduler, gpu, clock } = setup({ limits: { perUserRunning: 5 } });
    scheduler.submit(spec('ann', { params: { label: 'r1' }, modeRequest: relaxOk('relax') }));
    scheduler.submit(spec('ann', { params: { label: 'r2' }, modeRequest: relaxOk('relax') }));
    const r1 = await gpu.running(0);
    scheduler.submit(spec('bob', { params: { label: 'f1' }, modeRequest: relaxOk() }));
    r1.start();
    clock.advance(1_000);
    r1.end({ type: 'done', outputs: [output('r1')], executedUntil: clock.now() });
    // The fast job goes next, ahead of the relax job that waited longer.
    expect(label(await gpu.running(1))).toBe('f1');
  });

  it("wait slowdown × their owner's relax GPU time today before starting, woken by a timer", async () => {
    const { scheduler, gpu, clock } = setup({ slowdown: 0.5 });
    scheduler.submit(spec('ann', { params: { label: 'r1' }, modeRequest: relaxOk('relax') }));
    expect(await runFor(gpu, 0, clock, 60_000)).toBe('r1');
    const second = scheduler.submit(spec('ann', { params: { label: 'r2' }, modeRequest: relaxOk('relax') }));
    // 60 s of relax today × 0.5: it may start 30 s after it was queued, though the backend is free.
    clock.advance(29_999);
    expect(gpu.runs).toHaveLength(1);
    expect(second.state).toBe('queued');
    clock.advance(1);
    expect(label(await gpu.running(1))).toBe('r2');
  });

  it("keep their mode in the store and through a restart; a member's chosen mode is kept too", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'comfycord-relax-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const clock = new ManualClock();
    const store: JobStore = openJobStore({ dataDir: dir, clock });
    cleanup.push(() => store.close());
    const { scheduler } = setup();
    scheduler.pause();
    const job = scheduler.submit(spec('ann', { modeRequest: relaxOk('relax') }));
    persistJob(store, job, { channelId: 'c1' });
    expect(store.get(job.id)?.mode).toBe('relax');
    // The spec is rebuilt from the row (recovery-spec.ts) and restored: still relax, still behind fast jobs.
    const other = setup();
    other.scheduler.pause();
    const [restored] = other.scheduler.restore({ queued: [{ ...spec('ann', { id: job.id }), mode: store.get(job.id)!.mode }], inFlight: [] });
    const fast = other.scheduler.submit(spec('bob', { modeRequest: relaxOk() }));
    expect(restored!.mode).toBe('relax');
    expect(other.scheduler.position(fast.id)?.global).toBe(0);
    expect(other.scheduler.position(restored!.id)?.global).toBe(1);
    // A member's chosen mode is kept too.
    expect(store.userMode('ann')).toBe('fast');
    store.setUserMode('ann', 'relax');
    expect(store.userMode('ann')).toBe('relax');
  });
});

describe('the relax migration (schema 7)', () => {
  it('makes every earlier job fast and adds the members’ modes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'comfycord-relax-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const clock = new ManualClock();
    openJobStore({ dataDir: dir, clock, migrations: MIGRATIONS.slice(0, 5) }).close();
    const raw = new Database(join(dir, 'comfycord.db'));
    raw
      .prepare(`INSERT INTO jobs (id, state, prompt_id, owner_id, guild_id, channel_id, command, params, workflow, created_at, updated_at, finished_at, gpu_ms)
                VALUES ('j1', 'succeeded', 'p1', 'ann', 'g1', 'c1', 'draw', '{}', '{}', 1, 1, 1, 5000)`)
      .run();
    raw.close();
    const store = openJobStore({ dataDir: dir, clock });
    cleanup.push(() => store.close());
    expect(store.get('j1')?.mode).toBe('fast');
    expect(store.gpuMsSince('ann', 0, 'fast')).toBe(5_000);
    expect(store.gpuMsSince('ann', 0, 'relax')).toBe(0);
    expect(store.userMode('ann')).toBe('fast');
  });
});

describe('relax never delays a fast job by more than one job per backend (property)', () => {
  it('with backends kept busy by relax jobs and fast jobs arriving at random', async () => {
    const random = seededRandom(53);
    for (let round = 0; round < 6; round += 1) {
      const backends = 1 + random(4);
      const jobs: SimJob[] = [];
      // Relax users with long backlogs from the start.
      for (let u = 0; u < 3; u += 1) for (let i = 0; i < 20; i += 1) jobs.push({ userId: `relax${u}`, guildId: 'g', at: 0, runMs: 5_000 + random(60_000), mode: 'relax' });
      // Fast jobs of several users at random times and costs.
      for (let i = 0; i < 30; i += 1) jobs.push({ userId: `fast${random(5)}`, guildId: `g${random(2)}`, at: random(600_000), runMs: 1_000 + random(30_000) });
      const records = await simulate({
        backends,
        jobs,
        // Fast users are never held back by their own running limit: a waiting fast job could always start.
        scheduler: { limits: { perUserRunning: 100, perUserQueued: 100_000, minIntervalSeconds: 0 }, relaxSlowdown: 0 },
      });
      const ahead = relaxAhead(records);
      expect(ahead.fastJobs).toBe(30);
      expect(ahead.maxPerBackend, `round ${round}`).toBeLessThanOrEqual(1);
      expect(ahead.maxStartedWhileWaiting, `round ${round}`).toBe(0);
    }
  });
});
