// The scheduler over real ComfyClients and several fake ComfyUI servers on 127.0.0.1.
import { afterEach, describe, expect, it, vi } from 'vitest';
import sharp from 'sharp';
import { ComfyClient } from '../../src/comfy/client.js';
import type { ApiWorkflow } from '../../src/comfy/types.js';
import type { JobSpec } from '../../src/jobs/job.js';
import { ComfyBackend } from '../../src/scheduler/comfy-backend.js';
import { UnavailableError } from '../../src/scheduler/errors.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { serialGate } from '../../src/scheduler/serial-gate.js';
import { startFakeComfy, type FakeComfy, type FakeComfyOptions } from '../fakes/comfy/index.js';
import { ManualClock } from './manual-clock.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const INVERT: ApiWorkflow = {
  '1': { class_type: 'EmptyImage', inputs: { width: 16, height: 16, batch_size: 1, color: 255 } },
  '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] }, _meta: { title: 'Invert' } },
  '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'sched' } },
};

function ksampler(ckpt: string, steps = 2): ApiWorkflow {
  return {
    '3': { class_type: 'KSampler', inputs: { seed: 42, steps, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] }, _meta: { title: 'Sampler' } },
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: ckpt } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a cat', clip: ['4', 1] } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: 'blurry', clip: ['4', 1] } },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'sched' } },
  };
}

function job(userId: string, workflow: ApiWorkflow, extra: Partial<JobSpec> = {}): JobSpec {
  return { owner: { userId, guildId: 'g', roles: [] }, command: 'draw', workflow: structuredClone(workflow), ...extra };
}

interface Pool {
  fakes: FakeComfy[];
  backends: ComfyBackend[];
  scheduler: Scheduler;
  clock: ManualClock;
}

async function pool(specs: (FakeComfyOptions & { capacity?: number })[], maxTries = 3): Promise<Pool> {
  const clock = new ManualClock();
  const fakes: FakeComfy[] = [];
  const backends: ComfyBackend[] = [];
  for (const [i, spec] of specs.entries()) {
    const fake = await startFakeComfy({ objectInfo: 'core', ...spec });
    cleanup.push(() => fake.close());
    const client = new ComfyClient({ name: `gpu${i + 1}`, url: fake.url, reconnect: { minMs: 10, maxMs: 50 }, historyRetryMs: [10, 20, 40] });
    const backend = new ComfyBackend({ client, capacity: spec.capacity ?? 1, clock, lostAfterMs: 5_000 });
    cleanup.push(() => backend.stop());
    await backend.start();
    expect(backend.healthy).toBe(true);
    fakes.push(fake);
    backends.push(backend);
  }
  const scheduler = new Scheduler({
    backends,
    limits: { perUserRunning: 2, perUserQueued: 5, minIntervalSeconds: 0 },
    maxTries,
    timeoutSeconds: 600,
    clock,
  });
  cleanup.push(async () => scheduler.close());
  return { fakes, backends, scheduler, clock };
}

/** Resolves when the job reaches that state (ComfyUI's execution_start makes a job running). */
function until(j: { state: string; on(e: 'state', fn: (s: { state: string }) => void): unknown }, state: string): Promise<void> {
  if (j.state === state) return Promise.resolve();
  return new Promise((resolve) => j.on('state', (s) => s.state === state && resolve()));
}

function once<T>(emitter: { once(event: string, fn: (v: T) => void): unknown }, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, resolve));
}

describe('inventory reads', () => {
  it('reads one backend\'s whole inventory (node list and every model folder) before the next one\'s starts', async () => {
    const gate = serialGate();
    const seen: string[] = [];
    const backends: ComfyBackend[] = [];
    for (const name of ['a', 'b', 'c']) {
      const fake = await startFakeComfy({ objectInfo: 'core', models: { checkpoints: ['x.safetensors'], loras: ['y.safetensors'] } });
      cleanup.push(() => fake.close());
      fake.events.on('request', (_method, path) => {
        if (/^(\/api)?\/(object_info|models)/.test(path)) seen.push(name);
      });
      const client = new ComfyClient({ name, url: fake.url, reconnect: { minMs: 10, maxMs: 50 } });
      const backend = new ComfyBackend({ client, capacity: 1, clock: new ManualClock(), inventoryGate: gate });
      cleanup.push(() => backend.stop());
      backends.push(backend);
    }
    await Promise.all(backends.map((b) => b.start()));
    expect(backends.every((b) => b.inventory?.models.has('y.safetensors'))).toBe(true);
    // each backend's requests in one run: a, a, a, … b, b, … c, c, …
    const runs = seen.filter((name, i) => name !== seen[i - 1]);
    expect(runs).toHaveLength(3);
    expect(new Set(runs).size).toBe(3);
  });
});

describe('scheduler over fake ComfyUI servers', () => {
  it('routes by model, runs to completion with progress, and downloads the outputs', async () => {
    const { scheduler, fakes } = await pool([
      { models: { checkpoints: ['sd15.safetensors'] } },
      { models: { checkpoints: ['sdxl.safetensors'] } },
    ]);
    const j = scheduler.submit(job('a', ksampler('sdxl.safetensors')));
    const titles = new Set<string | null>();
    j.on('progress', (p) => titles.add(p.nodeTitle));
    expect(j.backend).toBe('gpu2');
    await expect(j.done).resolves.toBe('succeeded');
    expect(titles).toContain('Sampler');
    const png = j.outputs![0]!;
    expect((await sharp(png.bytes).metadata()).format).toBe('png');
    expect(fakes[0]!.requests.some((r) => r.path.endsWith('/prompt'))).toBe(false);
    expect(() => scheduler.submit(job('b', ksampler('flux.safetensors')))).toThrow(
      new UnavailableError('unsupported', 'no backend can run this: model flux.safetensors is not installed on any backend'),
    );
  });

  it('fails a job ComfyUI refuses, in words, without retrying it', async () => {
    const { scheduler } = await pool([{}]);
    const workflow = ksampler('sd15.safetensors');
    workflow['3']!.inputs['sampler_name'] = 'no-such-sampler';
    const j = scheduler.submit(job('a', workflow));
    await expect(j.done).resolves.toBe('failed');
    expect(j.error).toMatch(/^ComfyUI refused the workflow: .*sampler_name.*no-such-sampler/);
    expect(j.attempt).toBe(1);
  });

  it('fails a job whose node fails at run time, naming the node, without retrying elsewhere', async () => {
    const { scheduler, fakes } = await pool([{}, {}]);
    fakes[0]!.faults.failNextRun('ImageInvert', 'out of memory');
    const j = scheduler.submit(job('a', INVERT));
    await expect(j.done).resolves.toBe('failed');
    expect(j.error).toBe('ImageInvert (node 2) failed: RuntimeError: out of memory');
    expect(fakes[1]!.history.size).toBe(0);
  });

  it('uploads a job’s image to the backend it runs on, then binds it', async () => {
    const { scheduler, fakes } = await pool([{}]);
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).png().toBuffer();
    const workflow: ApiWorkflow = {
      '10': { class_type: 'LoadImage', inputs: { image: 'placeholder.png' } },
      '12': { class_type: 'SaveImage', inputs: { images: ['10', 0], filename_prefix: 'sched' } },
    };
    const j = scheduler.submit(
      job('a', workflow, { images: [{ option: 'init', filename: 'cat.png', bytes: png, target: { nodeId: '10', matchedBy: 'id', ref: '10.image', input: 'image' } }] }),
    );
    await expect(j.done).resolves.toBe('succeeded');
    expect(fakes[0]!.requests.filter((r) => r.path.endsWith('/upload/image'))).toHaveLength(1);
    const prompt = fakes[0]!.history.get(j.promptId!)!;
    expect(JSON.stringify(prompt)).toContain('cat');
  });

  it('moves a job from a backend that restarts mid-run to another one, and the first recovers', async () => {
    const { scheduler, fakes, backends } = await pool([{}, {}]);
    fakes[0]!.hold();
    const j = scheduler.submit(job('a', INVERT));
    const retried = once<{ backend: string }>(j, 'retry');
    expect(j.backend).toBe('gpu1');
    await until(j, 'running');
    const down = once<boolean>(backends[0]!, 'health');
    await fakes[0]!.restart();
    expect(await down).toBe(false);
    expect((await retried).backend).toBe('gpu1');
    await expect(j.done).resolves.toBe('succeeded');
    expect(j.backend).toBe('gpu2');
    expect(j.attempt).toBe(2);
    if (!backends[0]!.healthy) expect(await once<boolean>(backends[0]!, 'health')).toBe(true);
    fakes[0]!.release();
    const next = scheduler.submit(job('b', INVERT));
    expect(next.backend).toBe('gpu1');
    await expect(next.done).resolves.toBe('succeeded');
  });

  it('declares the jobs of a backend that stays down lost, and runs them elsewhere', async () => {
    const { scheduler, fakes, backends, clock } = await pool([{}, {}]);
    fakes[0]!.hold();
    const j = scheduler.submit(job('a', INVERT));
    await until(j, 'running');
    const down = once<boolean>(backends[0]!, 'health');
    await fakes[0]!.close();
    await down;
    clock.advance(5_000);
    await expect(j.done).resolves.toBe('succeeded');
    expect(j.backend).toBe('gpu2');
  });

  it('a backend whose /system_stats fails is down until a later periodic probe answers', async () => {
    const { scheduler, fakes, backends, clock } = await pool([{}]);
    const backend = backends[0]!;
    fakes[0]!.faults.failNext('/system_stats', 500);
    clock.advance(10_000);
    await backend.probe();
    expect(backend.healthy).toBe(false);
    // Accepted all the same: it waits for the backend.
    const waiting = scheduler.submit(job('a', INVERT));
    expect(waiting.state).toBe('queued');
    clock.advance(10_000);
    await backend.probe();
    expect(backend.healthy).toBe(true);
    await expect(waiting.done).resolves.toBe('succeeded');
  });

  it('a backend streaming a run is proven alive by its socket: the periodic probe skips /system_stats until it falls quiet', async () => {
    const { scheduler, fakes, backends, clock } = await pool([{}]);
    const backend = backends[0]!;
    const statsRequests = () => fakes[0]!.requests.filter((r) => r.path.endsWith('/system_stats')).length;
    const j = scheduler.submit(job('a', INVERT));
    await until(j, 'running');
    const before = statsRequests();
    expect(before).toBeGreaterThan(0);
    clock.advance(5_000);
    await backend.probe();
    expect(statsRequests()).toBe(before);
    expect(backend.healthy).toBe(true);
    await expect(j.done).resolves.toBe('succeeded');
    // Nothing heard for a whole period: the probe asks over HTTP again.
    clock.advance(10_000);
    await backend.probe();
    expect(statsRequests()).toBe(before + 1);
    expect(backend.healthy).toBe(true);
  });

  for (const profile of ['new', 'legacy'] as const) {
    it(`${profile} server: cancelling one job never stops another user’s job on the same backend`, async () => {
      const { scheduler, fakes, backends } = await pool([{ profile, capacity: 2 }]);
      const cancels = vi.spyOn(backends[0]!, 'cancel');
      const fake = fakes[0]!;
      fake.hold();
      const running = scheduler.submit(job('a', INVERT));
      const sentId = running.promptId;
      const reassigned: string[] = [];
      running.on('prompt', (p) => reassigned.push(p.promptId));
      const pending = scheduler.submit(job('b', INVERT));
      const third = scheduler.submit(job('c', INVERT));
      await until(running, 'running');
      // b's prompt waits in ComfyUI's queue: it is removed from it.
      await expect(scheduler.cancel(pending.id, { userId: 'b', isModerator: false })).resolves.toBe('cancelled');
      expect(running.state).toBe('running');
      await expect(scheduler.cancel(running.id, { userId: 'b', isModerator: false })).rejects.toThrow('this is not your job');
      // a's prompt runs: it is interrupted; c's, submitted next, runs to the end.
      const cancelled = scheduler.cancel(running.id, { userId: 'a', isModerator: false });
      // Let the run go on only once ComfyUI has taken the interrupt.
      await expect(cancels.mock.results.at(-1)?.value).resolves.toBe('interrupted');
      fake.release();
      await expect(cancelled).resolves.toBe('cancelled');
      await expect(third.done).resolves.toBe('succeeded');
      expect(cancels.mock.calls.map(([id]) => id)).toEqual([pending.promptId, running.promptId]);
      expect(fake.history.get(third.promptId!)).toBeDefined();
      // A legacy server ignores the client-chosen prompt id: the job records the server's.
      expect(reassigned).toEqual(profile === 'legacy' ? [running.promptId] : []);
      expect(running.promptId === sentId).toBe(profile !== 'legacy');
    });
  }
});
