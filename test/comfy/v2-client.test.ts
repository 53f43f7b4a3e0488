// The v2 client against the fake v2 server (proxy or cloud profile) in front of the fake ComfyUI.
import { afterEach, describe, expect, it } from 'vitest';
import { ComfyV2Error } from '../../src/comfy/errors.js';
import type { PromptEvent } from '../../src/comfy/types.js';
import { ComfyV2Client, type ComfyV2ClientOptions } from '../../src/comfy/v2-client.js';
import { startFakeComfy, type FakeComfy, type FakeComfyOptions } from '../fakes/comfy/index.js';
import { startFakeComfyV2, type FakeComfyV2, type FakeComfyV2Options } from '../fakes/comfy-v2/index.js';
import { pngImage } from '../fakes/comfy/media.js';

const FAST = { silenceMs: 2_000, expiredRetryMs: [5, 10, 20], reconnectMs: [5, 10], cancelConfirmMs: 20 };

export const KSAMPLER = {
  '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd15.safetensors' } },
  '2': { class_type: 'CLIPTextEncode', inputs: { text: 'a red fox', clip: ['1', 1] } },
  '3': { class_type: 'CLIPTextEncode', inputs: { text: 'blurry', clip: ['1', 1] } },
  '4': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
  '5': { class_type: 'KSampler', inputs: { model: ['1', 0], seed: 1, steps: 3, cfg: 7, sampler_name: 'euler', scheduler: 'normal', positive: ['2', 0], negative: ['3', 0], latent_image: ['4', 0], denoise: 1 } },
  '6': { class_type: 'VAEDecode', inputs: { samples: ['5', 0], vae: ['1', 2] } },
  '7': { class_type: 'SaveImage', inputs: { images: ['6', 0], filename_prefix: 'v2c' } },
};
const SIMPLE = {
  '1': { class_type: 'EmptyImage', inputs: { width: 64, height: 64, batch_size: 1, color: 3368652 } },
  '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'v2a' } },
};

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setup(v2: Partial<FakeComfyV2Options> = {}, comfy: FakeComfyOptions = {}, client: Partial<ComfyV2ClientOptions> = {}) {
  const fakeComfy: FakeComfy = await startFakeComfy({ profile: 'v0.3.64', objectInfo: 'core', ...comfy });
  cleanup.push(() => fakeComfy.close());
  const fake: FakeComfyV2 = await startFakeComfyV2({ upstream: fakeComfy.url, ...v2 });
  cleanup.push(() => fake.close());
  const c = new ComfyV2Client({ name: 'v2', url: fake.url, timing: FAST, ...client });
  cleanup.push(() => c.close());
  return { fakeComfy, fake, c };
}

function collect(events: PromptEvent[]) {
  return (e: PromptEvent) => events.push(e);
}

describe('ComfyV2Client on the proxy profile', () => {
  it('maps a KSampler run to the classic events: started, node, step progress, JPEG previews, outputs, done', async () => {
    const { fake, fakeComfy, c } = await setup();
    fakeComfy.hold();
    const run = await c.submit(KSAMPLER, 'key-ksampler');
    const events: PromptEvent[] = [];
    run.subscribe(collect(events));
    await fake.next('stream-open');
    fakeComfy.release();
    const end = await run.finished;
    expect(end.type).toBe('done');
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('queued');
    expect(types).toContain('started');
    expect(events.filter((e) => e.type === 'progress').map((e) => (e as { value: number }).value).filter((v) => v <= 3)).toEqual(expect.arrayContaining([1, 2, 3]));
    const preview = events.find((e) => e.type === 'preview') as Extract<PromptEvent, { type: 'preview' }>;
    expect(preview.mime).toBe('image/jpeg');
    expect(preview.bytes.subarray(0, 2).toString('hex')).toBe('ffd8');
    expect(types.indexOf('output')).toBeLessThan(types.indexOf('done'));
    const files = await c.downloadOutputs(run.promptId, (end as Extract<PromptEvent, { type: 'done' }>).outputs);
    expect(files).toHaveLength(1);
    expect(files[0]!.mime).toBe('image/png');
    expect(fake.requests.find((r) => r.method === 'POST' && r.path === '/api/v2/jobs')?.idempotencyKey).toBe('key-ksampler');
  });

  it('re-reads a transient expired and ends with the success', async () => {
    const { c, fake } = await setup();
    fake.faults.expireNextPoll();
    const run = await c.submit(SIMPLE, 'key-expired');
    const end = await run.finished;
    expect(end.type).toBe('done');
  });

  it('survives the stream dropping mid-run: polls, reconnects, finishes', async () => {
    const { c, fake, fakeComfy } = await setup();
    fakeComfy.hold();
    const run = await c.submit(KSAMPLER, 'key-drop');
    await fake.next('stream-open');
    fake.faults.dropStreams();
    const reopened = fake.next('stream-open');
    await reopened;
    fakeComfy.release();
    expect((await run.finished).type).toBe('done');
    expect(fake.requests.filter((r) => r.path.endsWith('/events')).length).toBeGreaterThanOrEqual(2);
  });

  it('waits out a 5xx on the reconciling poll instead of giving the job up', async () => {
    const { c, fake, fakeComfy } = await setup();
    fakeComfy.hold();
    const run = await c.submit(KSAMPLER, 'key-blip');
    await fake.next('stream-open');
    fake.faults.failNext(/^\/api\/v2\/jobs\/[^/]+$/, 503, 'upstream_error', 'Upstream request failed.');
    fake.faults.dropStreams();
    await fake.next('stream-open');
    fakeComfy.release();
    expect((await run.finished).type).toBe('done');
  });

  it('treats a silent stream as dead (watchdog) and reconnects', async () => {
    const { c, fake, fakeComfy } = await setup({}, {}, { timing: { ...FAST, silenceMs: 100 } });
    fakeComfy.hold();
    const run = await c.submit(KSAMPLER, 'key-silent');
    await fake.next('stream-open');
    fake.faults.stallStreams();
    await fake.next('stream-open');
    fakeComfy.release();
    expect((await run.finished).type).toBe('done');
  });

  it('adopts the job on idempotency_key_reuse instead of submitting it again', async () => {
    const { c, fake } = await setup();
    fake.faults.cutNextSubmitResponse();
    const run = await c.submit(SIMPLE, 'key-cut');
    expect((await run.finished).type).toBe('done');
    expect(fake.jobIds).toHaveLength(1);
    expect(run.promptId).toBe(fake.jobIds[0]);
  });

  it('adopt() finds a job submitted before a crash by its key', async () => {
    const { c, fake } = await setup();
    const first = await c.submit(SIMPLE, 'key-crash');
    await first.finished;
    const other = new ComfyV2Client({ name: 'v2', url: fake.url, timing: FAST });
    cleanup.push(() => other.close());
    const adopted = await other.adopt('key-crash', SIMPLE);
    expect(adopted.promptId).toBe(first.promptId);
    expect(fake.jobIds).toHaveLength(1);
  });

  it('reads ComfyUI-native validation errors per node', async () => {
    const { c } = await setup();
    const bad = { ...SIMPLE, '1': { class_type: 'EmptyImage', inputs: { width: -5, height: 64, batch_size: 1, color: 0 } } };
    const error = await c.submit(bad, 'key-bad').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ComfyV2Error);
    expect((error as ComfyV2Error).code).toBe('invalid_workflow');
    expect((error as ComfyV2Error).problems[0]).toMatchObject({ nodeId: '1', classType: 'EmptyImage', field: 'width' });
  });

  it('honours Retry-After on queue_full and says insufficient_credits plainly', async () => {
    const { c, fake } = await setup();
    fake.faults.failNext(/^\/api\/v2\/jobs$/, 429, 'queue_full', 'Queue is full.', 7);
    const full = (await c.submit(SIMPLE, 'k-full').catch((e: unknown) => e)) as ComfyV2Error;
    expect(full.code).toBe('queue_full');
    expect(full.retryAfterMs).toBe(7_000);
    fake.faults.failNext(/^\/api\/v2\/jobs$/, 402, 'insufficient_credits', 'Out of credits.');
    const broke = (await c.submit(SIMPLE, 'k-broke').catch((e: unknown) => e)) as ComfyV2Error;
    expect(broke.message).toMatch(/run out of credits/);
  });

  it('uploads an image once, then mints it from its hash (HEAD by-hash + from-hash)', async () => {
    const { c, fake } = await setup();
    const png = await pngImage(32, 24, 'photo');
    const first = await c.uploadImage(png, 'photo.png', 'up-1');
    const second = await c.uploadImage(png, 'photo.png', 'up-2');
    expect(first.__type).toBe('core/ASSET');
    expect(second.info.id).toBe(first.info.id);
    expect(fake.requests.filter((r) => r.method === 'POST' && r.path === '/api/v2/assets')).toHaveLength(1);
    expect(fake.requests.filter((r) => r.path === '/api/v2/assets/from-hash')).toHaveLength(1);
    const workflow = {
      '1': { class_type: 'LoadImage', inputs: { image: first as never } },
      '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'v2f' } },
    };
    expect((await (await c.submit(workflow, 'k-load')).finished).type).toBe('done');
  });

  it('falls back to the classic targeted interrupt when the v2 cancel does not stop the job', async () => {
    const { c, fake, fakeComfy } = await setup({}, {}, { classicUrl: undefined });
    const withClassic = new ComfyV2Client({ name: 'v2', url: fake.url, classicUrl: fakeComfy.url, timing: FAST });
    cleanup.push(() => withClassic.close());
    void c;
    fakeComfy.hold();
    const run = await withClassic.submit(KSAMPLER, 'key-cancel');
    await fake.next('stream-open');
    const result = await withClassic.cancel(run.promptId);
    expect(result).toBe('interrupted');
    fakeComfy.release();
    expect((await run.finished).type).toBe('interrupted');
    expect(fakeComfy.history.get(run.promptId)?.status?.status_str).toBe('error');
  });

  it('cancels a queued job the proxy leaves queued by dequeuing it from ComfyUI; its `expired` reads as cancelled', async () => {
    const { fake, fakeComfy } = await setup();
    const c = new ComfyV2Client({ name: 'v2', url: fake.url, classicUrl: fakeComfy.url, timing: FAST });
    cleanup.push(() => c.close());
    fakeComfy.hold();
    const running = await c.submit(KSAMPLER, 'key-first');
    const queued = await c.submit(SIMPLE, 'key-second');
    await expect(c.cancel(queued.promptId)).resolves.toBe('dequeued');
    expect((await queued.finished).type).toBe('interrupted');
    fakeComfy.release();
    expect((await running.finished).type).toBe('done');
    expect(fakeComfy.history.has(queued.promptId)).toBe(false);
  });

  it('refreshes output URLs that stopped working by re-reading the job', async () => {
    const { c, fake } = await setup();
    const run = await c.submit(SIMPLE, 'key-urls');
    const end = (await run.finished) as Extract<PromptEvent, { type: 'done' }>;
    fake.faults.expireUrls();
    const files = await c.downloadOutputs(run.promptId, end.outputs);
    expect(files[0]!.bytes.subarray(1, 4).toString()).toBe('PNG');
  });
});

describe('ComfyV2Client on the cloud profile', () => {
  it('sends the Bearer to the API only, never to the signed URL it is redirected to', async () => {
    const { fake } = await setup({ profile: 'cloud', token: 'secret-key' }, { profile: 'new' });
    const c = new ComfyV2Client({ name: 'cloud', url: fake.url, apiKey: 'secret-key', timing: FAST });
    cleanup.push(() => c.close());
    const run = await c.submit(SIMPLE, 'cloud-1');
    const end = (await run.finished) as Extract<PromptEvent, { type: 'done' }>;
    expect(end.type).toBe('done');
    const files = await c.downloadOutputs(run.promptId, end.outputs);
    expect(files[0]!.mime).toBe('image/png');
    expect(fake.requests.every((r) => r.authorization === 'Bearer secret-key')).toBe(true);
  });

  it('reads the spec-shaped validation details', async () => {
    const { fake } = await setup({ profile: 'cloud', token: 'k' }, { profile: 'new' });
    const c = new ComfyV2Client({ name: 'cloud', url: fake.url, apiKey: 'k', timing: FAST });
    cleanup.push(() => c.close());
    const bad = { ...SIMPLE, '1': { class_type: 'EmptyImage', inputs: { width: -5, height: 64, batch_size: 1, color: 0 } } };
    const error = (await c.submit(bad, 'cloud-bad').catch((e: unknown) => e)) as ComfyV2Error;
    expect(error.problems[0]).toMatchObject({ nodeId: '1', field: 'width' });
  });

  it('refuses a wrong key with a clear message', async () => {
    const { fake } = await setup({ profile: 'cloud', token: 'k' }, { profile: 'new' });
    const c = new ComfyV2Client({ name: 'cloud', url: fake.url, apiKey: 'wrong', timing: FAST });
    cleanup.push(() => c.close());
    await expect(c.probe()).rejects.toThrow(/API key was refused/);
  });
});
