import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { createMetrics } from '../../src/ops/metrics.js';
import { startOpsServer, type HealthReport, type OpsServer } from '../../src/ops/server.js';
import { probeHealth, probePort } from '../../src/ops/probe.js';

const open: Array<OpsServer | Server> = [];
afterEach(async () => {
  for (const s of open.splice(0)) {
    if ('port' in s) await s.close();
    else s.close();
  }
});

async function ops(report: HealthReport): Promise<OpsServer> {
  const server = await startOpsServer({ port: 0, host: '127.0.0.1', metrics: createMetrics({ processMetrics: false }), health: () => report });
  open.push(server);
  return server;
}

describe('probeHealth', () => {
  it('is healthy on 200 and shows the body', async () => {
    const server = await ops({ discord: 'connected', backends: { a: 'up' } });
    expect(await probeHealth({ port: server.port })).toEqual({
      healthy: true,
      detail: '200 {"ok":true,"discord":"connected","backends":{"a":"up"}}',
    });
  });

  it('is unhealthy on 503', async () => {
    const server = await ops({ discord: 'connected', backends: { a: 'down' } });
    const result = await probeHealth({ port: server.port });
    expect(result.healthy).toBe(false);
    expect(result.detail).toMatch(/^503 /);
  });

  it('is unhealthy when nothing listens', async () => {
    const server = await ops({ discord: 'connected', backends: {} });
    const port = server.port;
    await server.close();
    open.length = 0;
    expect(await probeHealth({ port })).toEqual({ healthy: false, detail: `http://127.0.0.1:${port}/healthz: ECONNREFUSED` });
  });

  it('gives up on a server that never answers', async () => {
    const silent = createServer(() => undefined);
    open.push(silent);
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const { port } = silent.address() as { port: number };
    const result = await probeHealth({ port, timeoutMs: 50 });
    expect(result).toEqual({ healthy: false, detail: `http://127.0.0.1:${port}/healthz: no answer within 50 ms` });
    silent.closeAllConnections();
  });
});

describe('probePort', () => {
  it('reads COMFYCORD_HTTP_PORT', () => {
    expect(probePort({ COMFYCORD_HTTP_PORT: '8080' })).toBe(8080);
  });

  it.each([{}, { COMFYCORD_HTTP_PORT: 'http' }, { COMFYCORD_HTTP_PORT: '99999' }])('rejects %j', (env) => {
    expect(() => probePort(env)).toThrow(/^COMFYCORD_HTTP_PORT: must be a port number from 0 to 65535 \(got ".*"\)$/);
  });
});
