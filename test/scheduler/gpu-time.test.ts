// GPU time: each finished job is charged its execution time on the backend (start to terminal message, not the
// download) × the backend's cost weight, kept in the job store through restarts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/jobs/migrations.js';
import { persistJob } from '../../src/jobs/persistence.js';
import { openJobStore, type JobStore } from '../../src/jobs/store.js';
import { RunTimeAverages, workUnits } from '../../src/scheduler/eta.js';
import { BackendDouble, output } from './backend-double.js';
import { refusal, setup, spec } from './helpers.js';
import { resolveLimits, SubmissionLimiter } from '../../src/scheduler/limits.js';
import { storeUsage } from '../../src/scheduler/usage.js';
import { ManualClock } from './manual-clock.js';
import { ENGINES } from '../store/engines.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0).reverse()) c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'comfycord-gpu-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function open(dataDir: string, clock: ManualClock, migrations = MIGRATIONS): JobStore {
  const s = openJobStore({ dataDir, clock, migrations });
  cleanup.push(() => s.close());
  return s;
}

class WeightedDouble extends BackendDouble {
  constructor(
    name: string,
    readonly costWeight: number,
  ) {
    super(name);
  }
}

describe('GPU time of a finished job', () => {
  it('is the execution from the start to the terminal message × the cost weight, not the download after it', async () => {
    const gpu = new WeightedDouble('gpu1', 1.5);
    const { scheduler, clock } = setup({ backends: [gpu] });
    const job = scheduler.submit(spec('ann'));
    const run = await gpu.running(0);
    clock.advance(2_000); // waiting in ComfyUI's own queue: free
    run.start();
    clock.advance(4_000);
    const terminalAt = clock.now();
    clock.advance(3_000); // downloading the outputs: free
    run.end({ type: 'done', outputs: [output('a')], executedUntil: terminalAt });
    await job.done;
    expect(job.gpuMs).toBe(6_000);
  });

  it('charges a failed and an interrupted run what they executed; a lost run nothing', async () => {
    const { scheduler, clock, gpu } = setup({ backends: [new BackendDouble('gpu1'), new BackendDouble('gpu2')] });
    const failed = scheduler.submit(spec('ann'));
    let run = await gpu.running(0);
    run.start();
    clock.advance(1_000);
    run.end({ type: 'failed', message: 'boom', executedUntil: clock.now() });
    await failed.done;
    expect(failed.gpuMs).toBe(1_000);

    const lost = scheduler.submit(spec('bob'));
    run = await gpu.running(1);
    run.start();
    clock.advance(5_000);
    run.end({ type: 'lost', message: 'gone' });
    await new Promise((r) => setImmediate(r));
    expect(lost.state).toBe('dispatched');
    expect(lost.gpuMs).toBeNull();
  });

  it("takes the server's own measure when the backend gives one (the cost weight still applies)", async () => {
    const gpu = new WeightedDouble('gpu1', 2);
    const { scheduler, clock } = setup({ backends: [gpu] });
    const job = scheduler.submit(spec('ann'));
    const run = await gpu.running(0);
    run.start();
    clock.advance(9_000); // the bot heard late: its own clock would say 9 s
    run.end({ type: 'done', outputs: [output('a')], executedUntil: clock.now(), executionMs: 1_500 });
    await job.done;
    expect(job.gpuMs).toBe(3_000);
  });

  it("charges a run adopted after a restart from its adoption, never for the bot's downtime", async () => {
    const { scheduler, clock, gpu } = setup();
    // Started 10 minutes before the restart; the backend gives no measure of its own (as a v2 endpoint).
    const startedAt = clock.now() - 600_000;
    const [job] = scheduler.restore({
      inFlight: [{ spec: spec('ann'), backend: 'gpu1', promptId: 'p-ann', attempt: 1, dispatchedAt: startedAt, startedAt }],
      queued: [],
    });
    const run = await gpu.running(0);
    clock.advance(2_000);
    run.end({ type: 'done', outputs: [output('a')], executedUntil: clock.now() });
    await job!.done;
    expect(job!.gpuMs).toBe(2_000);
  });

  it('is never charged for a run that did not start (dequeued by a cancel)', async () => {
    const { scheduler, gpu } = setup();
    const job = scheduler.submit(spec('ann'));
    await gpu.running(0);
    await scheduler.cancel(job.id, { userId: 'ann', isModerator: false });
    expect(job.gpuMs).toBeNull();
  });

  it('is written to the job row with the final state and survives reopening the store', async () => {
    const dir = tempDir();
    const { scheduler, clock, gpu } = setup();
    const store = open(dir, clock);
    const job = scheduler.submit(spec('ann'));
    persistJob(store, job, { channelId: 'c1' });
    const run = await gpu.running(0);
    run.start();
    clock.advance(2_500);
    run.end({ type: 'done', outputs: [output('a')], executedUntil: clock.now() });
    await job.done;
    expect(store.get(job.id)?.gpuMs).toBe(2_500);
    store.close();
    cleanup.pop();
    const again = open(dir, clock);
    expect(again.get(job.id)?.gpuMs).toBe(2_500);
    expect(again.gpuMsSince('ann', clock.now() - 60_000)).toBe(2_500);
    expect(again.gpuChargesSince(0)).toEqual([{ userId: 'ann', guildId: 'g1', command: 'draw', backend: 'gpu1', at: clock.now(), gpuMs: 2_500 }]);
  });
});

describe('the GPU-time migration', () => {
  it('adds the column to a database of the previous version; its finished jobs read as not measured', () => {
    const dir = tempDir();
    const clock = new ManualClock();
    // Schema 4, before GPU time (its rows are written by hand: this store writes columns schema 4 lacks).
    const old = openJobStore({ dataDir: dir, clock, migrations: MIGRATIONS.slice(0, 4) });
    old.close();
    const raw = new Database(join(dir, 'comfycord.db'));
    raw
      .prepare(`INSERT INTO jobs (id, state, prompt_id, owner_id, guild_id, channel_id, command, params, workflow, created_at, updated_at, finished_at)
                VALUES ('j1', 'succeeded', 'p1', 'ann', 'g1', 'c1', 'draw', '{}', '{}', 1, 1, 1)`)
      .run();
    raw.close();
    const store = open(dir, clock);
    expect(store.get('j1')?.gpuMs).toBeNull();
    expect(store.gpuMsSince('ann', 0)).toBe(0);
    const db = new Database(join(dir, 'comfycord.db'), { readonly: true });
    cleanup.push(() => db.close());
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(() => db.prepare('SELECT gpu_ms FROM jobs').all()).not.toThrow();
  });

  it('refuses a negative GPU time', () => {
    const clock = new ManualClock();
    const store = open(tempDir(), clock);
    store.insertJob({ id: 'j1', promptId: 'p1', ownerId: 'ann', guildId: 'g1', channelId: 'c1', command: 'draw', params: {}, workflow: {} });
    expect(() => store.updateJob('j1', { gpuMs: -1 })).toThrow(/CHECK/);
  });
});

describe.each(ENGINES)('usage by GPU time on $name', (engine) => {
  it('ranks the users of one server, of direct messages, or of all servers', () => {
    const clock = new ManualClock();
    const store = engine.open({ dataDir: tempDir(), clock });
    cleanup.push(() => store.close());
    const charge = (id: string, ownerId: string, guildId: string | null, gpuMs: number) => {
      store.insertJob({ id, promptId: id, ownerId, guildId, channelId: 'c', command: 'draw', params: {}, workflow: {} });
      store.transition(id, ['queued'], 'succeeded', { gpuMs });
    };
    charge('1', 'ann', 'g1', 1_000);
    charge('2', 'bob', 'g1', 5_000);
    charge('3', 'ann', 'g1', 1_000);
    charge('4', 'cat', 'g2', 9_000);
    charge('5', 'dan', null, 4_000);
    expect(store.topGpuUsers({ sinceMs: 0, guildId: 'g1', limit: 10 })).toEqual([
      { userId: 'bob', guildId: 'g1', gpuMs: 5_000, jobs: 1 },
      { userId: 'ann', guildId: 'g1', gpuMs: 2_000, jobs: 2 },
    ]);
    expect(store.topGpuUsers({ sinceMs: 0, guildId: null, limit: 10 }).map((u) => u.userId)).toEqual(['dan']);
    expect(store.topGpuUsers({ sinceMs: 0, limit: 2 }).map((u) => u.userId)).toEqual(['cat', 'bob']);
    expect(store.topGpuUsers({ sinceMs: clock.now() + 1, limit: 2 })).toEqual([]);
    expect(store.gpuMsSince('ann', 0)).toBe(2_000);
    expect(store.gpuChargesSince(0).map((c) => [c.userId, c.guildId, c.gpuMs, c.at])).toEqual([
      ['ann', 'g1', 1_000, clock.now()],
      ['bob', 'g1', 5_000, clock.now()],
      ['ann', 'g1', 1_000, clock.now()],
      ['cat', 'g2', 9_000, clock.now()],
      ['dan', null, 4_000, clock.now()],
    ]);
  });
});

describe('the cost estimate per command and backend', () => {
  it('reads steps × pixels × batch from the options, 1 for each absent or invalid one', () => {
    expect(workUnits({ steps: 20, width: 512, height: 512 })).toBe(20 * 512 * 512);
    expect(workUnits({ steps: 20, width: 512, height: 512, batch_size: 4 })).toBe(20 * 512 * 512 * 4);
    expect(workUnits({ prompt: 'x', steps: 'many', width: -3 })).toBe(1);
    expect(workUnits(undefined)).toBe(1);
  });

  it('scales the average by the work of the job asked about', () => {
    const averages = new RunTimeAverages();
    averages.record('draw', 'gpu1', 10_000, workUnits({ steps: 20, width: 512, height: 512 }));
    expect(averages.estimate('draw', 'gpu1', workUnits({ steps: 40, width: 512, height: 512 }))).toBe(20_000);
    expect(averages.estimate('draw', 'other', workUnits({ steps: 20, width: 1024, height: 1024 }))).toBe(40_000);
    expect(averages.estimate('video')).toBeNull();
  });
});

describe('GPU-minute quotas', () => {
  it('refuses once the day is used up, saying when it resets, and lets the user in the next day', async () => {
    const { scheduler, clock, gpu } = setup({ limits: { dailyGpuMinutes: 1 } });
    const job = scheduler.submit(spec('ann'));
    const run = await gpu.running(0);
    run.start();
    clock.advance(61_000);
    run.end({ type: 'done', outputs: [output('a')], executedUntil: clock.now() });
    await job.done;
    const e = refusal(() => scheduler.check({ owner: { userId: 'ann', guildId: 'g1', roles: [] }, command: 'draw' }));
    expect(e.limit).toBe('dailyGpu');
    expect(e.message).toBe('Daily GPU time used up (1 min of 1 min); it resets at 00:00 UTC');
    expect(e.retryAt?.toISOString()).toBe('2026-01-02T00:00:00.000Z');
    expect(() => scheduler.submit(spec('bob'))).not.toThrow();
    clock.advance(12 * 3_600_000);
    expect(() => scheduler.check({ owner: { userId: 'ann', guildId: 'g1', roles: [] }, command: 'draw' })).not.toThrow();
  });

  it('counts the month from the store, across a restart; a role override raises it', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 31, 23, 0, 0));
    const store = open(tempDir(), clock);
    store.insertJob({ id: 'old', promptId: 'p', ownerId: 'ann', guildId: 'g1', channelId: 'c', command: 'draw', params: {}, workflow: {} });
    store.transition('old', ['queued'], 'succeeded', { gpuMs: 30 * 60_000 });
    const usage = storeUsage(store);
    const limiter = new SubmissionLimiter(clock, usage);
    const quiet = { running: 0, queued: 0 };
    const month = { perUserRunning: 1, perUserQueued: 3, minIntervalSeconds: 0, monthlyGpuMinutes: 30 };
    const e = refusal(() => limiter.check('ann', month, quiet, { guildId: 'g1', ...quiet }));
    expect(e.limit).toBe('monthlyGpu');
    expect(e.message).toBe('Monthly GPU time used up (30 min of 30 min); it resets on 2026-02-01 at 00:00 UTC');
    const vip = resolveLimits(month, [{ role: 'vip', monthlyGpuMinutes: 120 }], { owner: { userId: 'ann', guildId: 'g1', roles: ['vip'] }, command: 'draw' });
    expect(() => limiter.check('ann', vip, quiet, { guildId: 'g1', ...quiet })).not.toThrow();
    clock.advance(3_600_000); // a new month
    expect(() => limiter.check('ann', month, quiet, { guildId: 'g1', ...quiet })).not.toThrow();
  });
});
