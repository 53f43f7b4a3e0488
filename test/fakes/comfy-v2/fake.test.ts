// The fake v2 endpoint against the real proxy's recorded answers (test/fixtures/comfyui/v2-transcripts): same
// statuses, error codes and shapes for the same requests, and the recorded departures from the spec.
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeComfy } from '../comfy/index.js';
import { pngImage } from '../comfy/media.js';
import { startFakeComfyV2, type FakeComfyV2Options } from './index.js';
import { v2Exchanges } from './transcripts.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function start(options: Partial<FakeComfyV2Options> = {}) {
  const comfy = await startFakeComfy({ objectInfo: 'core' });
  cleanup.push(() => comfy.close());
  const fake = await startFakeComfyV2({ upstream: comfy.url, ...options });
  cleanup.push(() => fake.close());
  return { comfy, fake };
}

async function call(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await request(`${url}${path}`, {
    method: method as 'GET',
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

const code = (json: unknown) => (json as { error?: { code?: string } } | undefined)?.error?.code;
const keysOf = (value: unknown) => Object.keys(value as object).sort();

describe('fake v2 (proxy profile) against transcript 02: idempotency', () => {
  it('answers each recorded request with the recorded status and error code', async () => {
    const { fake } = await start();
    const body = v2Exchanges('02').find((e) => e.method === 'POST')!.requestJson;
    const first = await call(fake.url, 'POST', '/api/v2/jobs', body, { 'idempotency-key': 'K1' });
    expect(first.status).toBe(201);
    const again = await call(fake.url, 'POST', '/api/v2/jobs', body, { 'idempotency-key': 'K1' });
    const recorded = v2Exchanges('02').find((e) => e.title.startsWith('Same key, identical body'))!;
    expect([again.status, code(again.json)]).toEqual([recorded.status, code(recorded.responseJson)]);
    const empty = v2Exchanges('02').find((e) => e.title.startsWith('Empty Idempotency-Key'))!;
    const emptyAnswer = await call(fake.url, 'POST', '/api/v2/jobs', body, { 'idempotency-key': '' });
    expect([emptyAnswer.status, code(emptyAnswer.json)]).toEqual([empty.status, code(empty.responseJson)]);
    // A key released after a rejection works again (K3 in the transcript).
    const bad = { workflow: { ...(body as { workflow: Record<string, unknown> }).workflow, '1': { class_type: 'EmptyImage', inputs: { width: -5, height: 64, batch_size: 1, color: 0 } } } };
    expect((await call(fake.url, 'POST', '/api/v2/jobs', bad, { 'idempotency-key': 'K3' })).status).toBe(422);
    expect((await call(fake.url, 'POST', '/api/v2/jobs', body, { 'idempotency-key': 'K3' })).status).toBe(201);
  });

  it('forgets keys across a restart without a state dir, and keeps them with one', async () => {
    const body = v2Exchanges('02').find((e) => e.method === 'POST')!.requestJson;
    const { fake } = await start();
    expect((await call(fake.url, 'POST', '/api/v2/jobs', body, { 'idempotency-key': 'R' })).status).toBe(201);
    await fake.restart();
    expect((await call(fake.url, 'POST', '/api/v2/jobs', body, { 'idempotency-key': 'R' })).status).toBe(201);
    const { fake: durable } = await start({ stateDir: true });
    expect((await call(durable.url, 'POST', '/api/v2/jobs', body, { 'idempotency-key': 'R' })).status).toBe(201);
    await durable.restart();
    expect(code((await call(durable.url, 'POST', '/api/v2/jobs', body, { 'idempotency-key': 'R' })).json)).toBe('idempotency_key_reuse');
  });
});

describe('fake v2 against transcript 05: validation errors', () => {
  it('keeps ComfyUI\'s native node_errors shape for width -5 and the message for an unknown class', async () => {
    const { fake } = await start();
    for (const title of ['EmptyImage width -5', 'Unknown class_type', 'UI-format', 'Body is not JSON', 'Reserved `inputs` field']) {
      const recorded = v2Exchanges('05').find((e) => e.title.startsWith(title))!;
      const answer = await call(fake.url, 'POST', '/api/v2/jobs', recorded.requestJson ?? 'not json{');
      expect([title, answer.status, code(answer.json)]).toEqual([title, recorded.status, code(recorded.responseJson)]);
      if (title === 'EmptyImage width -5') {
        const node = (answer.json as { error: { details: { node_errors: Record<string, unknown> } } }).error.details.node_errors['1'];
        const want = (recorded.responseJson as { error: { details: { node_errors: Record<string, unknown> } } }).error.details.node_errors['1'];
        expect(keysOf(node)).toEqual(keysOf(want));
      }
    }
  });
});

describe('fake v2 against transcripts 01, 03 and 06', () => {
  it('gives a 201 Job with the recorded keys, 404 not_found for unknown ids', async () => {
    const { fake } = await start();
    const recorded = v2Exchanges('01').find((e) => e.method === 'POST')!;
    const answer = await call(fake.url, 'POST', '/api/v2/jobs', recorded.requestJson, { 'idempotency-key': 'x' });
    expect(answer.status).toBe(201);
    expect(keysOf(answer.json)).toEqual(keysOf(recorded.responseJson));
    const unknown = await call(fake.url, 'GET', '/api/v2/jobs/9184711a-40c9-4d2e-902d-b41f0b100be8');
    expect([unknown.status, code(unknown.json)]).toEqual([404, 'not_found']);
  });

  it('deduplicates an upload like the proxy: 200, same id, original file_path; HEAD by-hash needs blake3:', async () => {
    const { fake } = await start();
    const png = await pngImage(32, 24, 'x');
    const form = () => {
      const f = new FormData();
      f.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'photo.png');
      f.append('content_type', 'image/png');
      return f;
    };
    const upload = async (path: string) => {
      const f = form();
      f.append('file_path', path);
      const res = await fetch(`${fake.url}/api/v2/assets`, { method: 'POST', body: f });
      return { status: res.status, json: (await res.json()) as { id: string; hash: string; file_path: string } };
    };
    const first = await upload('a.png');
    const second = await upload('b.png');
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.json.id).toBe(first.json.id);
    expect(second.json.file_path).toBe('a.png');
    expect((await call(fake.url, 'HEAD', `/api/v2/assets/by-hash/${first.json.hash}`)).status).toBe(200);
    expect((await call(fake.url, 'HEAD', `/api/v2/assets/by-hash/${first.json.hash.replace('blake3:', '')}`)).status).toBe(404);
    const missing = v2Exchanges('06').find((e) => e.title.startsWith('from-hash (unknown hash)'))!;
    const answer = await call(fake.url, 'POST', '/api/v2/assets/from-hash', missing.requestJson);
    expect([answer.status, code(answer.json)]).toEqual([missing.status, code(missing.responseJson)]);
  });
});

describe('fake v2 against transcript 09: auth and the stream cap', () => {
  it('refuses a missing or wrong Bearer with 401 unauthorized and a cross-site Origin with 403', async () => {
    const { fake } = await start({ token: 't' });
    expect(code((await call(fake.url, 'GET', '/api/v2/jobs/d89c64d1-dc6c-41cb-8210-ac6614e29256')).json)).toBe('unauthorized');
    expect((await call(fake.url, 'GET', '/api/v2/jobs/d89c64d1-dc6c-41cb-8210-ac6614e29256', undefined, { authorization: 'bearer t' })).status).toBe(404);
    expect((await call(fake.url, 'GET', '/api/v2/health')).status).toBe(200);
    expect(code((await call(fake.url, 'GET', '/api/v2/jobs', undefined, { authorization: 'Bearer t', origin: 'http://evil.example' })).json)).toBe('forbidden_origin');
  });

  it('answers the stream past the cap with 429 too_many_streams and Retry-After: 5', async () => {
    const { comfy, fake } = await start({ maxStreams: 2 });
    comfy.hold();
    const body = v2Exchanges('01').find((e) => e.method === 'POST')!.requestJson;
    const job = (await call(fake.url, 'POST', '/api/v2/jobs', body)).json as { id: string };
    const open = [fake.next('stream-open'), fake.next('stream-open')];
    const controller = new AbortController();
    const streams = [0, 1].map(() => request(`${fake.url}/api/v2/jobs/${job.id}/events`, { signal: controller.signal }).catch(() => undefined));
    await Promise.all(open);
    const third = await call(fake.url, 'GET', `/api/v2/jobs/${job.id}/events`);
    expect([third.status, code(third.json), third.headers['retry-after']]).toEqual([429, 'too_many_streams', '5']);
    controller.abort();
    await Promise.all(streams);
    comfy.release();
  });
});
