// The scheduler over a mixed pool: classic ComfyBackends and V2Backends (fake v2 server in front of a fake
// ComfyUI), with failover between kinds, adoption after a crash, cancel and asset inputs.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ComfyClient } from '../../src/comfy/client.js';
import type { ApiWorkflow } from '../../src/comfy/types.js';
import { ComfyV2Client } from '../../src/comfy/v2-client.js';
import type { JobSpec } from '../../src/jobs/job.js';
import { ComfyBackend } from '../../src/scheduler/comfy-backend.js';
import { dispatchId } from '../../src/scheduler/dispatch-key.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { V2Backend } from '../../src/scheduler/v2-backend.js';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/index.js';
import { pngImage } from '../fakes/comfy/media.js';
import { startFakeComfyV2, type FakeComfyV2 } from '../fakes/comfy-v2/index.js';
import { ManualClock } from './manual-clock.js';

const FAST = { silenceMs: 2_000, expiredRetryMs: [5, 10, 20], reconnectMs: [5, 10], cancelConfirmMs: 20 };
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const INVERT: ApiWorkflow = {
  '1': { class_type: 'EmptyImage', inputs: { width: 16, height: 16, batch_size: 1, color: 255 } },
  '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
  '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'mixed' } },
};
const SAMPLER: ApiWorkflow = {
  '3': { class_type: 'KSampler', inputs: { seed: 4, steps: 3, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] } },
  '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd15.safetensors' } },
  '5': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
  '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a cat', clip: ['4', 1] } },
  '7': { class_type: 'CLIPTextEncode', inputs: { text: 'blurry', clip: ['4', 1] } },
  '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
  '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'mixed' } },
};

function job(userId: string, workflow: ApiWorkflow, extra: Partial<JobSpec> = {}): JobSpec {
  return { owner: { userId, guildId: 'g', roles: [] }, command: 'draw', workflow: structuredClone(workflow), ...extra };
}

function until(j: { state: string; on(e: 'state', fn: (s: { state: string }) => void): unknown }, state: string): Promise<void> {
  if (j.state === state) return Promise.resolve();
  return new Promise((resolve) => j.on('state', (s) => s.state === state && resolve()));
}

async function comfy(): Promise<FakeComfy> {
  const fake = await startFakeComfy({ objectInfo: 'core' });
  cleanup.push(() => fake.close());
  return fake;
}

async function v2(upstream: FakeComfy, options: { classic?: boolean; clock: ManualClock; name?: string }): Promise<{ fake: FakeComfyV2; backend: V2Backend }> {
  const fake = await startFakeComfyV2({ upstream: upstream.url });
  cleanup.push(() => fake.close());
  const classicUrl = options.classic ? upstream.url : undefined;
  const client = new ComfyV2Client({ name: options.name ?? 'v2', url: fake.url, timing: FAST, ...(classicUrl ? { classicUrl } : {}) });
  const backend = new V2Backend({ client, clock: options.clock, lostAfterMs: 5_000, ...(classicUrl ? { classicUrl } : {}) });
  cleanup.push(() => backend.stop());
  await backend.start();
  expect(backend.healthy).toBe(true);
  return { fake, backend };
}

async function classic(fake: FakeComfy, clock: ManualClock): Promise<ComfyBackend> {
  const client = new ComfyClient({ name: 'classic', url: fake.url, reconnect: { minMs: 10, maxMs: 50 }, historyRetryMs: [10, 20, 40] });
  const backend = new ComfyBackend({ client, clock, lostAfterMs: 5_000 });
  cleanup.push(() => backend.stop());
  await backend.start();
  return backend;
}

function scheduler(backends: (ComfyBackend | V2Backend)[], clock: ManualClock, maxTries = 3): Scheduler {
  const s = new Scheduler({ backends, limits: { perUserRunning: 2, perUserQueued: 5, minIntervalSeconds: 0 }, maxTries, timeoutSeconds: 600, clock });
  cleanup.push(async () => s.close());
  return s;
}

describe('V2Backend in the scheduler', () => {
  it('runs a job end to end with progress, previews and outputs, the job id replacing the Idempotency-Key', async () => {
    const clock = new ManualClock();
    const upstream = await comfy();
    const { fake, backend } = await v2(upstream, { classic: true, clock });
    const s = scheduler([backend], clock);
    upstream.hold();
    const j = s.submit(job('a', SAMPLER));
    const key = j.promptId;
    const previews: Buffer[] = [];
    const steps: number[] = [];
    j.on('preview', (p) => previews.push(p.bytes));
    j.on('progress', (p) => steps.push(p.value));
    await fake.next('stream-open');
    upstream.release();
    const outputs = new Promise<number>((resolve) => j.on('outputs', (r) => resolve(r.outputs.length)));
    await expect(j.done).resolves.toBe('succeeded');
    expect(await outputs).toBe(1);
    expect(key).toBe(dispatchId(j.id, 1));
    expect(fake.requests.find((r) => r.path === '/api/v2/jobs' && r.method === 'POST')?.idempotencyKey).toBe(key);
    expect(j.promptId).toBe(fake.jobIds[0]);
    expect(previews.length).toBeGreaterThan(0);
    expect(steps).toEqual(expect.arrayContaining([1, 2, 3]));
  });

  it('without a classic URL, nodes are not checked: any workflow may be dispatched to it', async () => {
    const clock = new ManualClock();
    const { backend } = await v2(await comfy(), { clock });
    expect(backend.discovers).toBe(false);
    expect(backend.inventory?.unchecked).toBe(true);
    expect(backend.inventory?.nodeClasses.has('SomeCustomNode')).toBe(true);
  });

  it('mixes kinds: a job lost on a classic backend that goes down runs on the v2 one, and the other way round', async () => {
    const clock = new ManualClock();
    const classicFake = await comfy();
    const cb = await classic(classicFake, clock);
    const { backend: vb, fake: v2fake } = await v2(await comfy(), { classic: true, clock });
    const s = scheduler([cb, vb], clock);
    classicFake.hold();
    const first = s.submit(job('a', INVERT));
    await until(first, 'dispatched');
    expect(first.backend).toBe('classic');
    await classicFake.close();
    clock.advance(5_000);
    await expect(first.done).resolves.toBe('succeeded');
    expect(first.backend).toBe('v2');
    expect(v2fake.jobIds).toHaveLength(1);

    // And back: the v2 endpoint refuses with 5xx (unreachable), the classic one takes the job.
    const cb2 = await classic(await comfy(), clock);
    const { backend: vb2, fake: v2fake2 } = await v2(await comfy(), { classic: true, clock, name: 'v2b' });
    const s2 = scheduler([vb2, cb2], clock);
    v2fake2.faults.failNext(/^\/api\/v2\/jobs$/, 503, 'upstream_error', 'Upstream request failed.');
    v2fake2.faults.failNext(/^\/api\/v2\/jobs$/, 503, 'upstream_error', 'Upstream request failed.');
    const second = s2.submit(job('b', INVERT));
    await expect(second.done).resolves.toBe('succeeded');
    expect(second.backend).toBe('classic');
  });

  it('a busy v2 endpoint (429 queue_full) rests for Retry-After while the classic backend takes the job', async () => {
    const clock = new ManualClock();
    const cb = await classic(await comfy(), clock);
    const { backend: vb, fake } = await v2(await comfy(), { classic: true, clock });
    const s = scheduler([vb, cb], clock);
    fake.faults.failNext(/^\/api\/v2\/jobs$/, 429, 'queue_full', 'Queue is full.', 30);
    const j = s.submit(job('a', INVERT));
    await expect(j.done).resolves.toBe('succeeded');
    expect(j.backend).toBe('classic');
    expect(vb.healthy).toBe(false);
    clock.advance(30_000);
    await vb.probe();
    expect(vb.healthy).toBe(true);
  });

  it('insufficient_credits fails the job in plain words instead of retrying it', async () => {
    const clock = new ManualClock();
    const { backend, fake } = await v2(await comfy(), { classic: true, clock });
    const s = scheduler([backend], clock);
    fake.faults.failNext(/^\/api\/v2\/jobs$/, 402, 'insufficient_credits', 'Insufficient credits.');
    const j = s.submit(job('a', INVERT));
    await expect(j.done).resolves.toBe('failed');
    expect(j.error).toMatch(/run out of credits/);
    expect(fake.jobIds).toHaveLength(0);
  });

  it('after a crash between the submit and its 201, the restored job is adopted by its key, not submitted twice', async () => {
    const clock = new ManualClock();
    const upstream = await comfy();
    const { fake, backend } = await v2(upstream, { classic: true, clock });
    const spec = job('a', INVERT, { id: 'job-crashed' });
    const key = dispatchId('job-crashed', 1);
    // The first life: the store had the key, the request reached the server, the bot died before the 201.
    fake.faults.cutNextSubmitResponse();
    const before = new ComfyV2Client({ name: 'v2', url: fake.url, timing: FAST });
    cleanup.push(() => before.close());
    const created = fake.next('job-created');
    await before.submit(spec.workflow, key).catch(() => undefined);
    await created;
    // The second life: recovery hands the scheduler the in-flight job with the key as its prompt id.
    const s = scheduler([backend], clock);
    const [restored] = s.restore({ queued: [], inFlight: [{ spec, backend: 'v2', promptId: key, attempt: 1, dispatchedAt: clock.now(), startedAt: null }] });
    await expect(restored!.done).resolves.toBe('succeeded');
    expect(fake.jobIds).toHaveLength(1);
    expect(fake.requests.filter((r) => r.method === 'POST' && r.path === '/api/v2/jobs').every((r) => r.idempotencyKey === key)).toBe(true);
  });

  it('a restored job whose key the server never saw is submitted once, under the same key', async () => {
    const clock = new ManualClock();
    const { fake, backend } = await v2(await comfy(), { classic: true, clock });
    const spec = job('a', INVERT, { id: 'job-never-sent' });
    const key = dispatchId('job-never-sent', 1);
    const s = scheduler([backend], clock);
    const [restored] = s.restore({ queued: [], inFlight: [{ spec, backend: 'v2', promptId: key, attempt: 1, dispatchedAt: clock.now(), startedAt: null }] });
    await expect(restored!.done).resolves.toBe('succeeded');
    expect(fake.jobIds).toHaveLength(1);
    expect(fake.requests.filter((r) => r.method === 'POST' && r.path === '/api/v2/jobs').map((r) => r.idempotencyKey)).toEqual([key]);
  });

  it('cancel: the proxy says canceling and carries on; the classic targeted interrupt stops only that job', async () => {
    const clock = new ManualClock();
    const upstream = await comfy();
    const { fake, backend } = await v2(upstream, { classic: true, clock });
    const s = scheduler([backend], clock);
    const cancels = vi.spyOn(backend, 'cancel');
    upstream.hold();
    const mine = s.submit(job('a', SAMPLER));
    await fake.next('stream-open');
    await until(mine, 'running');
    const cancelled = s.cancel(mine.id, { userId: 'a', isModerator: false });
    // Let the run go on only once ComfyUI has taken the (fallback) interrupt.
    await expect(cancels.mock.results.at(-1)?.value).resolves.toBe('interrupted');
    upstream.release();
    await expect(cancelled).resolves.toBe('cancelled');
    await expect(mine.done).resolves.toBe('cancelled');
    expect(upstream.requests.some((r) => r.path.endsWith('/interrupt'))).toBe(true);
  });

  it('binds an image option to an uploaded asset (core/ASSET), deduplicated on the second job', async () => {
    const clock = new ManualClock();
    const { fake, backend } = await v2(await comfy(), { classic: true, clock });
    const s = scheduler([backend], clock);
    const png = await pngImage(32, 24, 'input');
    const workflow: ApiWorkflow = {
      '1': { class_type: 'LoadImage', inputs: { image: 'example.png' } },
      '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'in' } },
    };
    const target = { nodeId: '1', input: 'image', ref: 'LoadImage.image', matchedBy: 'class' } as unknown as NonNullable<JobSpec['images']>[number]['target'];
    const image = { option: 'photo', filename: 'photo.png', bytes: png, target };
    await expect(s.submit(job('a', workflow, { images: [image] })).done).resolves.toBe('succeeded');
    await expect(s.submit(job('b', workflow, { images: [image] })).done).resolves.toBe('succeeded');
    expect(fake.requests.filter((r) => r.method === 'POST' && r.path === '/api/v2/assets')).toHaveLength(1);
    expect(fake.requests.filter((r) => r.path === '/api/v2/assets/from-hash')).toHaveLength(1);
  });
});
