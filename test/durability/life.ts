// One "life" of the bot's core in the test process: its own store handle, ComfyUI client, backend and
// scheduler over a shared data dir and a shared fake ComfyUI. `crash()` drops everything without writing
// anything more (what SIGKILL leaves behind); the next life recovers from the same data dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { ComfyClient } from '../../src/comfy/client.js';
import type { ApiWorkflow } from '../../src/comfy/types.js';
import type { Logger } from '../../src/config/logger.js';
import type { Limits } from '../../src/config/schema.js';
import type { Job, JobSpec } from '../../src/jobs/job.js';
import { persistJob } from '../../src/jobs/persistence.js';
import { recoverJobs, type CommandLookup, type Recovery } from '../../src/jobs/recovery.js';
import { openJobStore, type JobStore, type NewJobImage } from '../../src/jobs/store.js';
import { ComfyBackend } from '../../src/scheduler/comfy-backend.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { storeUsage } from '../../src/scheduler/usage.js';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/index.js';
import { ManualClock } from '../scheduler/manual-clock.js';

/** The same client id in every life, so ComfyUI keeps sending a restarted bot the frames of its prompts. */
const CLIENT_ID = 'comfycord-durability';

export interface LifeOptions {
  maxTries?: number;
  limits?: Partial<Limits>;
  /** Where this life's clock starts (epoch ms); now by default. */
  startAt?: number;
  timeoutSeconds?: number;
  /** The client's stall watchdog: a run without frames this long is looked up in /history and /queue. */
  stallMs?: number;
  commands?: CommandLookup;
  /** Recovery's logger. */
  logger?: Logger;
}

export class BotLife {
  private crashed = false;

  private constructor(
    readonly store: JobStore,
    readonly client: ComfyClient,
    readonly backend: ComfyBackend,
    readonly scheduler: Scheduler,
    readonly clock: ManualClock,
    private readonly options: LifeOptions,
  ) {}

  static async start(dataDir: string, fake: FakeComfy, options: LifeOptions = {}): Promise<BotLife> {
    const clock = new ManualClock(options.startAt ?? Date.now());
    // One clock per life: the store's timestamps (start times, usage days) are on the scheduler's time.
    const store = openJobStore({ dataDir, clock });
    const client = new ComfyClient({
      name: 'gpu1',
      url: fake.url,
      clientId: CLIENT_ID,
      reconnect: { minMs: 10, maxMs: 50 },
      historyRetryMs: [10, 20, 40],
      successGraceMs: 50,
      stallMs: options.stallMs ?? 60_000,
    });
    const backend = new ComfyBackend({ client, clock, lostAfterMs: 30_000 });
    await backend.start();
    if (!backend.healthy) throw new Error(`the fake ComfyUI at ${fake.url} did not come up healthy`);
    const scheduler = new Scheduler({
      backends: [backend],
      limits: { perUserRunning: 1, perUserQueued: 10, minIntervalSeconds: 0, ...options.limits },
      maxTries: options.maxTries ?? 3,
      timeoutSeconds: options.timeoutSeconds ?? 600,
      // As the bot does: quotas and the interval survive a restart.
      usage: storeUsage(store),
      clock,
    });
    return new BotLife(store, client, backend, scheduler, clock, options);
  }

  /** What the bot does for a slash command: submit, then write the row (before the prompt leaves). */
  submit(spec: JobSpec, images: NewJobImage[] = []): Job {
    const job = this.scheduler.submit(spec);
    persistJob(this.store, job, { channelId: 'channel-1', images });
    return job;
  }

  recover(attach?: (job: Job) => void): Recovery {
    return recoverJobs({
      store: this.store,
      scheduler: this.scheduler,
      commands: this.options.commands ?? (() => undefined),
      maxTries: this.options.maxTries ?? 3,
      ...(this.options.logger ? { logger: this.options.logger } : {}),
      ...(attach ? { attach } : {}),
    });
  }

  /** Like SIGKILL: no more store writes, sockets gone; the fake ComfyUI keeps running what it has. */
  async crash(): Promise<void> {
    if (this.crashed) return;
    this.crashed = true;
    this.store.close();
    this.scheduler.close();
    await this.backend.stop();
  }
}

/** A fresh data dir; `cleanup` removes it. */
export function tempDataDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'comfycord-durability-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** What a durability test builds its lives on: a data dir and a fake ComfyUI that outlive any one life. */
export interface World {
  dir: string;
  fake: FakeComfy;
}

export interface Lives {
  /** A fresh data dir and fake ComfyUI, both removed after the test. */
  world(): Promise<World>;
  /** A life over `dir` and `fake`, crashed after the test if it is still up. */
  life(dir: string, fake: FakeComfy, options?: LifeOptions): Promise<BotLife>;
}

/** Registers an afterEach that tears down, newest first, everything `world` and `life` set up in a test. */
export function useLives(): Lives {
  const undos: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const undo of undos.splice(0).reverse()) await undo();
  });
  const onCleanup = (undo: () => Promise<void> | void): void => {
    undos.push(undo);
  };
  return {
    async world() {
      const data = tempDataDir();
      onCleanup(data.cleanup);
      const fake = await startFakeComfy({ objectInfo: 'core' });
      onCleanup(() => fake.close());
      return { dir: data.dir, fake };
    },
    async life(dir, fake, options = {}) {
      const started = await BotLife.start(dir, fake, options);
      onCleanup(() => started.crash());
      return started;
    },
  };
}

/** A small text-to-image workflow the fake ComfyUI runs as a sampler (steps → progress and previews). */
export function sampler(seed: number, steps = 4): ApiWorkflow {
  return {
    '3': { class_type: 'KSampler', inputs: { seed, steps, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] }, _meta: { title: 'Sampler' } },
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd15.safetensors' } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a lighthouse', clip: ['4', 1] } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: 'blurry', clip: ['4', 1] } },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'durable' } },
  };
}

export function spec(userId: string, seed: number, extra: Partial<JobSpec> = {}): JobSpec {
  return { owner: { userId, guildId: 'guild-1', roles: [] }, command: 'imagine', workflow: sampler(seed), params: { seed }, ...extra };
}

/** Resolves when the job is (or gets) in that state. */
export function reaches(job: Job, state: Job['state']): Promise<void> {
  if (job.state === state) return Promise.resolve();
  return new Promise((resolve) => {
    const on = (change: { state: Job['state'] }) => {
      if (change.state !== state) return;
      job.off('state', on);
      resolve();
    };
    job.on('state', on);
  });
}

/** The workflows the fake ComfyUI was sent, in order (POST /prompt bodies). */
export function submittedPrompts(fake: FakeComfy): { promptId: string; prompt: ApiWorkflow }[] {
  return fake.requests
    .filter((r) => r.method === 'POST' && /\/prompt$/.test(r.path))
    .map((r) => {
      const body = r.body as { prompt_id: string; prompt: ApiWorkflow };
      return { promptId: body.prompt_id, prompt: body.prompt };
    });
}
