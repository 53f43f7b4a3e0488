import { EventEmitter, once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REST } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { Job, JobControl, type JobSpec } from '../../src/jobs/job.js';
import {
  countRateLimits,
  healthReport,
  instrumentBackends,
  instrumentCluster,
  instrumentJob,
  instrumentQueue,
  type RateLimitInfo,
} from '../../src/ops/instrument.js';
import { createMetrics, type Metrics } from '../../src/ops/metrics.js';
import { startOpsServer, type HealthReport, type OpsServer } from '../../src/ops/server.js';
import { BackendDouble } from '../scheduler/backend-double.js';
import { setup, spec } from '../scheduler/helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function opsServer(metrics: Metrics, health: () => HealthReport = () => ({ discord: 'connected', backends: {} })): Promise<OpsServer> {
  const server = await startOpsServer({ port: 0, host: '127.0.0.1', metrics, health });
  cleanups.push(() => server.close());
  return server;
}

/** A /metrics scrape as sample → value, with each sample's labels sorted so tests need not know prom-client's order. */
class Scrape {
  private readonly samples = new Map<string, number>();

  constructor(text: string) {
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/i.exec(line);
      if (!match) throw new Error(`not a Prometheus sample: ${line}`);
      this.samples.set(Scrape.key(match[1]!, Scrape.parseLabels(match[2] ?? '')), Number(match[3]));
    }
  }

  private static parseLabels(raw: string): Record<string, string> {
    return Object.fromEntries([...raw.matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/gi)].map((m) => [m[1]!, m[2]!]));
  }

  private static key(name: string, labels: Record<string, string>): string {
    const sorted = Object.keys(labels)
      .sort()
      .map((k) => `${k}=${labels[k]}`);
    return `${name}{${sorted.join(',')}}`;
  }

  /** The sample's value, or undefined when the scrape does not have it. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    return this.samples.get(Scrape.key(name, labels));
  }
}

async function scrape(server: OpsServer): Promise<Scrape> {
  const res = await fetch(`${server.url}/metrics`);
  expect(res.status).toBe(200);
  return new Scrape(await res.text());
}

function freshMetrics(): Metrics {
  return createMetrics({ processMetrics: false });
}

const jobsTotal = (s: Scrape, state: string, command = 'draw') => s.value('comfycord_jobs_total', { state, command });

describe('instrumentJob on a scheduler’s jobs', () => {
  it('counts queued → dispatched → running → succeeded and observes wait and run time per command and backend', async () => {
    const metrics = freshMetrics();
    const server = await opsServer(metrics);
    const { scheduler, clock, gpu } = setup();
    const job = scheduler.submit(spec('alice'));
    // The scheduler dispatched it inside submit(): it still counts as queued, with a zero wait.
    expect(job.state).toBe('dispatched');
    instrumentJob(job, metrics);
    const run = await gpu.running(0);
    clock.advance(4000);
    run.start();
    clock.advance(12_500);
    run.succeed();
    await job.done;

    const s = await scrape(server);
    for (const state of ['queued', 'dispatched', 'running', 'succeeded']) expect(jobsTotal(s, state)).toBe(1);
    expect(jobsTotal(s, 'failed')).toBeUndefined();
    const labels = { command: 'draw', backend: 'gpu1' };
    expect(s.value('comfycord_job_wait_seconds_count', labels)).toBe(1);
    expect(s.value('comfycord_job_wait_seconds_sum', labels)).toBe(0);
    expect(s.value('comfycord_job_run_seconds_count', labels)).toBe(1);
    expect(s.value('comfycord_job_run_seconds_sum', labels)).toBe(12.5);
    expect(s.value('comfycord_job_run_seconds_bucket', { ...labels, le: '10' })).toBe(0);
    expect(s.value('comfycord_job_run_seconds_bucket', { ...labels, le: '20' })).toBe(1);
    // The double does not stamp the terminal message: the GPU time runs to the settle, 12.5 s.
    expect(s.value('comfycord_gpu_seconds_total', { ...labels, guild: 'g1' })).toBe(12.5);
  });

  it('measures the wait of a job that sat in the queue behind another, and the run of one cancelled while running', async () => {
    const metrics = freshMetrics();
    const server = await opsServer(metrics);
    const { scheduler, clock, gpu } = setup();
    const first = scheduler.submit(spec('alice', { command: 'video' }));
    const second = scheduler.submit(spec('bob'));
    expect(second.state).toBe('queued');
    instrumentJob(first, metrics);
    instrumentJob(second, metrics);

    const firstRun = await gpu.running(0);
    firstRun.start();
    clock.advance(30_000);
    firstRun.succeed();
    const secondRun = await gpu.running(1);
    expect(second.state).toBe('dispatched');
    secondRun.start();
    clock.advance(3000);
    await expect(scheduler.cancel(second.id, { userId: 'bob', isModerator: false })).resolves.toBe('cancelled');

    const s = await scrape(server);
    expect(s.value('comfycord_job_wait_seconds_sum', { command: 'draw', backend: 'gpu1' })).toBe(30);
    expect(s.value('comfycord_job_wait_seconds_sum', { command: 'video', backend: 'gpu1' })).toBe(0);
    expect(s.value('comfycord_job_run_seconds_sum', { command: 'video', backend: 'gpu1' })).toBe(30);
    expect(s.value('comfycord_job_run_seconds_sum', { command: 'draw', backend: 'gpu1' })).toBe(3);
    expect(jobsTotal(s, 'cancelled')).toBe(1);
    expect(jobsTotal(s, 'succeeded', 'video')).toBe(1);
    expect(jobsTotal(s, 'queued')).toBe(1);
  });

  it('counts each re-entry after a lost backend but observes the wait once, to the first dispatch', async () => {
    const metrics = freshMetrics();
    const server = await opsServer(metrics);
    const gpu1 = new BackendDouble('gpu1');
    const gpu2 = new BackendDouble('gpu2');
    const { scheduler, clock } = setup({ backends: [gpu1, gpu2] });
    const job = scheduler.submit(spec('alice'));
    instrumentJob(job, metrics);
    const lost = await (job.backend === 'gpu1' ? gpu1 : gpu2).running(0);
    const other = job.backend === 'gpu1' ? gpu2 : gpu1;
    lost.start();
    clock.advance(2000);
    lost.backend.setHealthy(false);
    lost.end({ type: 'lost', message: 'connection reset' });
    const retried = await other.running(0);
    retried.start();
    clock.advance(1000);
    retried.end({ type: 'failed', message: 'out of memory' });
    await expect(job.done).resolves.toBe('failed');

    const s = await scrape(server);
    expect(jobsTotal(s, 'queued')).toBe(2);
    expect(jobsTotal(s, 'dispatched')).toBe(2);
    expect(jobsTotal(s, 'running')).toBe(2);
    expect(jobsTotal(s, 'failed')).toBe(1);
    const waits = ['gpu1', 'gpu2'].map((backend) => s.value('comfycord_job_wait_seconds_count', { command: 'draw', backend }) ?? 0);
    expect(waits.reduce((a, b) => a + b)).toBe(1);
    // Only the attempt that ended is a run; the lost one went back to the queue.
    expect(s.value('comfycord_job_run_seconds_count', { command: 'draw', backend: other.name })).toBe(1);
    expect(s.value('comfycord_job_run_seconds_sum', { command: 'draw', backend: other.name })).toBe(1);
    expect(s.value('comfycord_job_run_seconds_count', { command: 'draw', backend: lost.backend.name })).toBeUndefined();
  });

  it('observes no run time for a job the backend refused before it started', async () => {
    const metrics = freshMetrics();
    const server = await opsServer(metrics);
    const { scheduler, gpu } = setup();
    gpu.beforeSubmit = async () => {
      throw new Error('prompt has no outputs');
    };
    const job = scheduler.submit(spec('alice'));
    instrumentJob(job, metrics);
    await expect(job.done).resolves.toBe('failed');

    const s = await scrape(server);
    expect(jobsTotal(s, 'failed')).toBe(1);
    expect(jobsTotal(s, 'running')).toBeUndefined();
    expect(s.value('comfycord_job_wait_seconds_count', { command: 'draw', backend: 'gpu1' })).toBe(1);
    expect(s.value('comfycord_job_run_seconds_count', { command: 'draw', backend: 'gpu1' })).toBeUndefined();
  });
});

describe('instrumentJob on a job alone', () => {
  const alone: JobSpec = { owner: { userId: 'u1', guildId: null, roles: [] }, command: 'upscale', workflow: {} };

  function make(createdAt = 1000) {
    let now = createdAt;
    const job = new Job(alone, createdAt);
    return { job, control: new JobControl(job, () => now), at: (t: number) => (now = t) };
  }

  it('detaches from the job once it ends', () => {
    const metrics = freshMetrics();
    const { job, control } = make();
    instrumentJob(job, metrics);
    expect(job.listenerCount('state')).toBe(1);
    control.dispatch('gpu1', 'p1');
    control.cancel('user asked');
    expect(job.listenerCount('state')).toBe(0);
  });

  it('stops counting when detached early', async () => {
    const metrics = freshMetrics();
    const server = await opsServer(metrics);
    const { job, control, at } = make();
    const detach = instrumentJob(job, metrics);
    at(6000);
    control.dispatch('gpu1', 'p1');
    detach();
    control.start();
    expect(job.listenerCount('state')).toBe(0);
    const s = await scrape(server);
    expect(jobsTotal(s, 'dispatched', 'upscale')).toBe(1);
    expect(jobsTotal(s, 'running', 'upscale')).toBeUndefined();
    expect(s.value('comfycord_job_wait_seconds_sum', { command: 'upscale', backend: 'gpu1' })).toBe(5);
  });

  it('counts the states a running job passed through when instrumented late, and its run from its start', async () => {
    const metrics = freshMetrics();
    const server = await opsServer(metrics);
    const { job, control, at } = make();
    at(3000);
    control.dispatch('gpu2', 'p1');
    at(4000);
    control.start();
    instrumentJob(job, metrics);
    at(9000);
    control.succeed([]);
    const s = await scrape(server);
    for (const state of ['queued', 'dispatched', 'running', 'succeeded']) expect(jobsTotal(s, state, 'upscale')).toBe(1);
    expect(s.value('comfycord_job_wait_seconds_sum', { command: 'upscale', backend: 'gpu2' })).toBe(2);
    expect(s.value('comfycord_job_run_seconds_sum', { command: 'upscale', backend: 'gpu2' })).toBe(5);
  });

  it('counts only the end of a job that ended before it was instrumented, and attaches nothing', async () => {
    const metrics = freshMetrics();
    const server = await opsServer(metrics);
    const { job, control } = make();
    control.fail('no backend can run this: model x.safetensors is missing');
    const detach = instrumentJob(job, metrics);
    expect(job.listenerCount('state')).toBe(0);
    expect(detach).not.toThrow();
    const s = await scrape(server);
    expect(jobsTotal(s, 'failed', 'upscale')).toBe(1);
    expect(jobsTotal(s, 'queued', 'upscale')).toBeUndefined();
  });
});

describe('instrumentBackends', () => {
  it('sets each backend’s gauge now and follows its health events until detached', async () => {
    const metrics = freshMetrics();
    const server = await opsServer(metrics);
    const gpu1 = new BackendDouble('gpu1');
    const cloud = Object.assign(new BackendDouble('cloud'), { api: 'v2' as const });
    cloud.healthy = false;
    const detach = instrumentBackends([gpu1, cloud], metrics);

    let s = await scrape(server);
    expect(s.value('comfycord_backend_up', { backend: 'gpu1', api: 'classic' })).toBe(1);
    expect(s.value('comfycord_backend_up', { backend: 'cloud', api: 'v2' })).toBe(0);

    gpu1.setHealthy(false);
    cloud.setHealthy(true);
    s = await scrape(server);
    expect(s.value('comfycord_backend_up', { backend: 'gpu1', api: 'classic' })).toBe(0);
    expect(s.value('comfycord_backend_up', { backend: 'cloud', api: 'v2' })).toBe(1);

    detach();
    expect(gpu1.listenerCount('health')).toBe(0);
    gpu1.setHealthy(true);
    s = await scrape(server);
    expect(s.value('comfycord_backend_up', { backend: 'gpu1', api: 'classic' })).toBe(0);
  });

  it('refuses two backends with one name, which would share one series', () => {
    const metrics = freshMetrics();
    const a = new BackendDouble('gpu1');
    expect(() => instrumentBackends([a, new BackendDouble('gpu1')], metrics)).toThrow(
      'backend metrics: backend name "gpu1" is used twice; each backend needs its own name',
    );
    expect(a.listenerCount('health')).toBe(0);
  });
});

describe('instrumentQueue', () => {
  it('reads the number of waiting jobs from the scheduler at each scrape', async () => {
    const metrics = freshMetrics();
    const server = await opsServer(metrics);
    const { scheduler, gpu } = setup();
    instrumentQueue(scheduler, metrics);
    expect((await scrape(server)).value('comfycord_queue_length')).toBe(0);

    scheduler.submit(spec('alice'));
    scheduler.submit(spec('bob'));
    const last = scheduler.submit(spec('carol'));
    expect((await scrape(server)).value('comfycord_queue_length')).toBe(2);

    await scheduler.cancel(last.id, { userId: 'carol', isModerator: false });
    (await gpu.running(0)).succeed();
    await gpu.running(1);
    expect((await scrape(server)).value('comfycord_queue_length')).toBe(0);
  });

  it('refuses a second scheduler until the first is detached, then stops reading the first', async () => {
    const metrics = freshMetrics();
    const server = await opsServer(metrics);
    const first = setup();
    const second = setup();
    const detach = instrumentQueue(first.scheduler, metrics);
    expect(() => instrumentQueue(second.scheduler, metrics)).toThrow(
      'queue metrics: the queue-length gauge already reads a scheduler; detach that one first',
    );
    detach();
    instrumentQueue(second.scheduler, metrics);
    first.scheduler.submit(spec('alice'));
    first.scheduler.submit(spec('bob'));
    expect(first.scheduler.jobs().filter((j) => j.state === 'queued')).toHaveLength(1);
    expect((await scrape(server)).value('comfycord_queue_length')).toBe(0);
  });
});

describe('countRateLimits', () => {
  class FakeRest extends EventEmitter<{ rateLimited: [RateLimitInfo] }> {}

  it('counts by route, puts global limits under "global", and stops when detached', async () => {
    const metrics = freshMetrics();
    const server = await opsServer(metrics);
    const rest = new FakeRest();
    const detach = countRateLimits(rest, metrics);
    const route = '/webhooks/:id/:token/messages/:id';
    rest.emit('rateLimited', { route, global: false });
    rest.emit('rateLimited', { route, global: false });
    rest.emit('rateLimited', { route: '/channels/:id/messages', global: true });
    rest.emit('rateLimited', { route: '', global: false });
    detach();
    rest.emit('rateLimited', { route, global: false });

    const s = await scrape(server);
    expect(s.value('comfycord_discord_rate_limited_total', { route })).toBe(2);
    expect(s.value('comfycord_discord_rate_limited_total', { route: 'global' })).toBe(1);
    expect(s.value('comfycord_discord_rate_limited_total', { route: 'unknown' })).toBe(1);
    expect(s.value('comfycord_discord_rate_limited_total', { route: '/channels/:id/messages' })).toBeUndefined();
  });

  type Answer = { status: number; headers: Record<string, string> };

  /** discord.js's REST client against a Discord stand-in on 127.0.0.1 that gives the scripted answers, then 200s. */
  async function restAgainst(answers: Answer[]) {
    const discord: Server = createServer((_req, res) => {
      const answer = answers.shift() ?? { status: 200, headers: {} };
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.status === 429 ? '{"message":"You are being rate limited.","retry_after":0.05,"global":false}' : '{}');
    });
    discord.listen(0, '127.0.0.1');
    await once(discord, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => discord.close(() => resolve())));
    const { port } = discord.address() as AddressInfo;
    const rest = new REST({ api: `http://127.0.0.1:${port}`, version: '10' }).setToken('test-token');
    cleanups.push(() => {
      rest.clearHashSweeper();
      rest.clearHandlerSweeper();
    });
    const metrics = freshMetrics();
    const server = await opsServer(metrics);
    countRateLimits(rest, metrics);
    return { rest, server };
  }

  const channelMessages = '/channels/111111111111111111/messages';
  const spent: Record<string, string> = { 'x-ratelimit-limit': '1', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '0.05' };

  it('counts a 429 from Discord that discord.js retried, under its bucket route', async () => {
    const { rest, server } = await restAgainst([{ status: 429, headers: { ...spent, 'retry-after': '0.05', 'x-ratelimit-scope': 'user' } }]);
    await expect(rest.post(channelMessages, { body: { content: 'a' } })).resolves.toEqual({});
    const s = await scrape(server);
    expect(s.value('comfycord_discord_rate_limited_total', { route: '/channels/:id/messages' })).toBe(1);
  });

  it('counts a global 429 under "global", whatever route met it', async () => {
    const { rest, server } = await restAgainst([
      { status: 429, headers: { 'retry-after': '0.05', 'x-ratelimit-global': 'true', 'x-ratelimit-scope': 'global' } },
    ]);
    await expect(rest.post(channelMessages, { body: { content: 'a' } })).resolves.toEqual({});
    const s = await scrape(server);
    expect(s.value('comfycord_discord_rate_limited_total', { route: 'global' })).toBe(1);
    expect(s.value('comfycord_discord_rate_limited_total', { route: '/channels/:id/messages' })).toBeUndefined();
  });

  it('counts the limit discord.js waits for before Discord has to answer 429', async () => {
    const { rest, server } = await restAgainst([{ status: 200, headers: spent }]);
    const waited = once(rest, 'rateLimited');
    await rest.post(channelMessages, { body: { content: 'a' } });
    await rest.post(channelMessages, { body: { content: 'b' } });
    await waited;
    const s = await scrape(server);
    expect(s.value('comfycord_discord_rate_limited_total', { route: '/channels/:id/messages' })).toBe(1);
  });
});

describe('healthReport', () => {
  it('feeds /healthz: 200 while Discord is connected and a backend is up, 503 once neither backend is', async () => {
    const metrics = freshMetrics();
    let connected = true;
    const gpu1 = new BackendDouble('gpu1');
    const cloud = new BackendDouble('cloud');
    cloud.healthy = false;
    const server = await opsServer(metrics, healthReport({ discordConnected: () => connected, backends: [gpu1, cloud] }));

    let res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, discord: 'connected', backends: { gpu1: 'up', cloud: 'down' } });

    gpu1.healthy = false;
    res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ok: false, discord: 'connected', backends: { gpu1: 'down', cloud: 'down' } });

    cloud.healthy = true;
    connected = false;
    res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ok: false, discord: 'disconnected', backends: { gpu1: 'down', cloud: 'up' } });
  });

  it("reports this process's role and lease age; a standby (no backends connected) is healthy while Discord is connected", async () => {
    const metrics = freshMetrics();
    const gpu1 = new BackendDouble('gpu1');
    gpu1.healthy = false;
    const cluster = { role: 'standby' as 'leader' | 'standby', leaderSince: null as number | null, leaseAgeMs: (): number | null => null };
    const server = await opsServer(metrics, healthReport({ discordConnected: () => true, backends: [gpu1], cluster }));
    let res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, discord: 'connected', backends: { gpu1: 'down' }, cluster: { role: 'standby', leaseAgeSeconds: null, leaderSince: null } });

    // Once it leads it is judged like a single process: no backend up, not healthy.
    Object.assign(cluster, { role: 'leader', leaderSince: 1_000, leaseAgeMs: () => 1_500 });
    res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ cluster: { role: 'leader', leaseAgeSeconds: 1.5, leaderSince: 1_000 } });

    const detach = instrumentCluster(cluster, metrics);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    detach();
    expect(text).toMatch(/^comfycord_leader 1$/m);
    expect(text).toMatch(/^comfycord_lease_age_seconds 1\.5$/m);
  });

  it('refuses two backends with one name, whose states would overwrite each other', () => {
    expect(() => healthReport({ discordConnected: () => true, backends: [{ name: 'a', healthy: true }, { name: 'a', healthy: false }] })).toThrow(
      'health report: backend name "a" is used twice; each backend needs its own name',
    );
  });
});
