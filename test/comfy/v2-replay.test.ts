// Replays of the real proxy's recorded answers (test/fixtures/comfyui/v2-transcripts) through the v2 client.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ComfyV2Error } from '../../src/comfy/errors.js';
import type { PromptEvent } from '../../src/comfy/types.js';
import { ComfyV2Client } from '../../src/comfy/v2-client.js';
import { samplerPreview } from '../fakes/comfy/media.js';
import { v2Exchanges, v2Frames } from '../fakes/comfy-v2/transcripts.js';

const FAST = { silenceMs: 2_000, expiredRetryMs: [5, 10], reconnectMs: [5] };
let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** Serves recorded answers: the 201, the recorded SSE frames, then the final job object. */
async function replayServer(answers: { submit: unknown; frames: string; final: unknown }): Promise<string> {
  server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/api/v2/health') return void res.writeHead(200).end('{"status":"healthy"}');
    if (req.method === 'POST') return void res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(answers.submit));
    if (req.url?.endsWith('/events')) return void res.writeHead(200, { 'content-type': 'text/event-stream' }).end(answers.frames);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answers.final));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('v2 replay: 03 KSampler with SSE', () => {
  it('maps the recorded frames to the classic events, in order', async () => {
    const exchanges = v2Exchanges('03');
    const submit = exchanges.find((e) => e.method === 'POST')!.responseJson;
    const final = exchanges.filter((e) => e.method === 'GET' && e.path.startsWith('/api/v2/jobs/')).at(-1)!.responseJson;
    const jpeg = (await samplerPreview()).toString('base64');
    const frames = v2Frames('03')
      .map((f) => (f.event === 'preview' ? { ...f, data: { ...f.data, data_base64: jpeg } } : f))
      .map((f) => `event: ${f.event}\ndata: ${JSON.stringify(f.data)}\n\n`)
      .join(': keepalive\n\n');
    const c = new ComfyV2Client({ name: 'replay', url: await replayServer({ submit, frames, final }), timing: FAST });
    const run = await c.submit({}, 'k');
    const events: PromptEvent[] = [];
    run.subscribe((e) => events.push(e));
    const end = await run.finished;
    await c.close();
    expect(end.type).toBe('done');
    const summary = events.map((e) =>
      e.type === 'progress' ? `progress ${e.value}/${e.max}` : e.type === 'node' ? `node ${e.node}` : e.type === 'output' ? `output ${e.node}` : e.type,
    );
    // The normalised 1.0 of frame 3 is shown once; the later 0.83 / 0.92 are not (never backwards); steps are.
    expect(summary).toEqual([
      'queued', 'started', 'progress 100/100', 'node 5', 'progress 1/3', 'preview', 'progress 2/3', 'preview', 'progress 3/3', 'preview', 'output 7', 'done',
    ]);
  });
});

describe('v2 replay: 05 validation errors', () => {
  it('reads the native node_errors shape the proxy sends', async () => {
    const rejected = v2Exchanges('05').find((e) => e.title.startsWith('EmptyImage width -5'))!;
    const submit = rejected.responseJson;
    server = createServer((req, res) => {
      if (req.url === '/api/v2/health') return void res.writeHead(200).end('{}');
      res.writeHead(rejected.status, { 'content-type': 'application/json' }).end(JSON.stringify(submit));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const c = new ComfyV2Client({ name: 'replay', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, timing: FAST });
    const error = (await c.submit({}, 'k').catch((e: unknown) => e)) as ComfyV2Error;
    expect(error).toBeInstanceOf(ComfyV2Error);
    expect(error.describe()).toEqual(['EmptyImage (node 1).width: -5 is below the minimum 1']);
  });

  it('keeps the message of an unknown class (empty node_errors)', async () => {
    const rejected = v2Exchanges('05').find((e) => e.title.startsWith('Unknown class_type'))!;
    server = createServer((_req, res) => void res.writeHead(rejected.status, { 'content-type': 'application/json' }).end(JSON.stringify(rejected.responseJson)));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const c = new ComfyV2Client({ name: 'replay', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, timing: FAST });
    const error = (await c.submit({}, 'k').catch((e: unknown) => e)) as ComfyV2Error;
    expect(error.message).toMatch(/node NoSuchNodeXYZ does not exist/);
  });
});
