// Connections to a backend: ComfyUI (aiohttp) keeps an idle connection 75 s and does not say so, so the client's
// own keep-alive decides whether the health probe every 10 s and a job's requests reuse one.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { COMFY_CONNECTIONS, COMFY_KEEP_ALIVE_MS, rawRequest } from '../../src/comfy/transport.js';

let server: Server;
let connections = 0;
let inFlight = 0;
let mostInFlight = 0;
let release: (() => void)[] = [];
let holdRequests = false;
let onArrival: () => void = () => undefined;

beforeEach(async () => {
  connections = 0;
  inFlight = 0;
  mostInFlight = 0;
  release = [];
  holdRequests = false;
  server = createServer((_req, res) => {
    inFlight += 1;
    mostInFlight = Math.max(mostInFlight, inFlight);
    onArrival();
    const answer = () => {
      inFlight -= 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    };
    if (holdRequests) release.push(answer);
    else answer();
  });
  // like aiohttp: no Keep-Alive header, no idle timeout of its own
  server.keepAliveTimeout = 0;
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterEach(async () => {
  vi.useRealTimers();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const get = (path = '/api/system_stats') => {
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return rawRequest({ method: 'GET', url: `${url}${path}`, body: undefined, headers: {}, timeoutMs: 60_000, place: { backend: 'gpu1', route: `GET ${path}` }, baseUrl: url });
};

describe('connections to a backend', () => {
  it('reuses an idle connection for the next health probe 10 s later, and lets it go after 30 s', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    expect((await get()).status).toBe(200);
    await vi.advanceTimersByTimeAsync(10_000);
    expect((await get()).status).toBe(200);
    expect(connections).toBe(1);
    await vi.advanceTimersByTimeAsync(COMFY_KEEP_ALIVE_MS + 2_000);
    expect((await get()).status).toBe(200);
    expect(connections).toBe(2);
  });

  it(`opens at most ${COMFY_CONNECTIONS} connections to one backend; more requests wait for a free one`, async () => {
    holdRequests = true;
    const full = new Promise<void>((resolve) => {
      onArrival = () => {
        if (inFlight === COMFY_CONNECTIONS) resolve();
      };
    });
    const requests = Array.from({ length: 20 }, (_, i) => get(`/api/models/folder${i}`));
    await full;
    holdRequests = false;
    for (const answer of release.splice(0)) answer();
    const answers = await Promise.all(requests);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(mostInFlight).toBe(COMFY_CONNECTIONS);
    expect(connections).toBe(COMFY_CONNECTIONS);
  });
});
