import { createServer } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/ops/metrics.js';
import { isHealthy, startOpsServer, type HealthReport, type OpsServer } from '../../src/ops/server.js';

const servers: OpsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(health: () => HealthReport | Promise<HealthReport>, metrics = createMetrics({ processMetrics: false })) {
  const server = await startOpsServer({ port: 0, host: '127.0.0.1', metrics, health });
  servers.push(server);
  return { server, metrics };
}

describe('isHealthy', () => {
  it.each<[HealthReport, boolean]>([
    [{ discord: 'connected', backends: { a: 'up', b: 'down' } }, true],
    [{ discord: 'connected', backends: { a: 'down' } }, false],
    [{ discord: 'connected', backends: {} }, false],
    [{ discord: 'connecting', backends: { a: 'up' } }, false],
    [{ discord: 'disconnected', backends: { a: 'up' } }, false],
  ])('%j → %s', (report, healthy) => {
    expect(isHealthy(report)).toBe(healthy);
  });
});

describe('ops server /healthz', () => {
  it('answers 200 with the report when Discord is connected and a backend is up', async () => {
    const { server } = await start(() => ({ discord: 'connected', backends: { 'comfy-1': 'up', cloud: 'down' } }));
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ ok: true, discord: 'connected', backends: { 'comfy-1': 'up', cloud: 'down' } });
  });

  it('answers 503 with the same shape when no backend is up', async () => {
    const { server } = await start(async () => ({ discord: 'connected', backends: { 'comfy-1': 'down' } }));
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ok: false, discord: 'connected', backends: { 'comfy-1': 'down' } });
  });

  it('answers 503 while Discord is not connected', async () => {
    const { server } = await start(() => ({ discord: 'disconnected', backends: { 'comfy-1': 'up' } }));
    const res = await fetch(`${server.url}/healthz?verbose=1`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { discord: string }).discord).toBe('disconnected');
  });

  it('answers 500 with the reason when the health callback fails', async () => {
    const { server } = await start(() => {
      throw new Error('store closed');
    });
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ ok: false, error: 'store closed' });
  });
});

describe('ops server /metrics and other routes', () => {
  it('serves the registry in Prometheus text format', async () => {
    const { server, metrics } = await start(() => ({ discord: 'connected', backends: {} }));
    metrics.jobs.inc({ state: 'succeeded', command: 'imagine' });
    metrics.queueLength.set(4);
    metrics.waitSeconds.observe({ command: 'imagine', backend: 'comfy-1' }, 3);
    metrics.runSeconds.observe({ command: 'imagine', backend: 'comfy-1' }, 12);
    metrics.previewsSent.inc(2);
    metrics.discordRateLimited.inc({ route: 'PATCH /webhooks/:id/:token/messages/:id' });
    metrics.backendUp.set({ backend: 'comfy-1', api: 'classic' }, 1);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('comfycord_jobs_total{state="succeeded",command="imagine"} 1');
    expect(text).toContain('comfycord_queue_length 4');
    expect(text).toContain('comfycord_job_wait_seconds_bucket{le="5",command="imagine",backend="comfy-1"} 1');
    expect(text).toContain('comfycord_job_run_seconds_sum{command="imagine",backend="comfy-1"} 12');
    expect(text).toContain('comfycord_previews_sent_total 2');
    expect(text).toContain('comfycord_discord_rate_limited_total{route="PATCH /webhooks/:id/:token/messages/:id"} 1');
    expect(text).toContain('comfycord_backend_up{backend="comfy-1",api="classic"} 1');
  });

  it('includes process metrics unless turned off, each registry separate', async () => {
    const withProcess = createMetrics();
    const without = createMetrics({ processMetrics: false });
    expect(await withProcess.registry.metrics()).toContain('comfycord_process_cpu_seconds_total');
    expect(await without.registry.metrics()).not.toContain('process_cpu');
    withProcess.queueLength.set(9);
    expect(await without.registry.metrics()).toContain('comfycord_queue_length 0');
  });

  it('answers 404 elsewhere and 405 for other methods', async () => {
    const { server } = await start(() => ({ discord: 'connected', backends: { a: 'up' } }));
    const missing = await fetch(`${server.url}/`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'no such route / (try /healthz or /metrics)' });
    const post = await fetch(`${server.url}/healthz`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('reports a port that is taken, naming it', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const { port } = blocker.address() as { port: number };
    try {
      await expect(
        startOpsServer({ port, host: '127.0.0.1', metrics: createMetrics({ processMetrics: false }), health: () => ({ discord: 'connected', backends: {} }) }),
      ).rejects.toThrow(`ops server: cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
    } finally {
      blocker.close();
    }
  });

  it('closes even with a keep-alive connection open', async () => {
    const server = await startOpsServer({
      port: 0,
      host: '127.0.0.1',
      metrics: createMetrics({ processMetrics: false }),
      health: () => ({ discord: 'connected', backends: { a: 'up' } }),
    });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    await server.close();
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});
