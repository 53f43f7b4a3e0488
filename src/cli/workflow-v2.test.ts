// `comfycord workflow --api v2` in-process against the fake v2 server in front of the fake ComfyUI.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeComfy } from '../../test/fakes/comfy/index.js';
import { startFakeComfyV2 } from '../../test/fakes/comfy-v2/index.js';
import { memoryIO } from './io.js';
import { run } from './workflow.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const SAMPLER = {
  '3': { class_type: 'KSampler', inputs: { seed: 4, steps: 2, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] } },
  '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd15.safetensors' } },
  '5': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
  '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a cat', clip: ['4', 1] } },
  '7': { class_type: 'CLIPTextEncode', inputs: { text: 'blurry', clip: ['4', 1] } },
  '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
  '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'cli' } },
};

async function setup(profile: 'proxy' | 'cloud') {
  const comfy = await startFakeComfy({ objectInfo: 'core', profile: profile === 'cloud' ? 'new' : 'v0.3.64', stepDelayMs: 20 });
  cleanup.push(() => comfy.close());
  const v2 = await startFakeComfyV2({ upstream: comfy.url, profile });
  cleanup.push(() => v2.close());
  const dir = await mkdtemp(join(tmpdir(), 'comfycord-workflow-v2-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'wf.json');
  await writeFile(file, JSON.stringify(SAMPLER));
  return { v2, dir, file };
}

describe('comfycord workflow --api v2', () => {
  it('prints the same JSON event lines as the classic path and saves the output', async () => {
    const { v2, dir, file } = await setup('proxy');
    const io = memoryIO({});
    const out = join(dir, 'out');
    expect(await run([file, '--server', v2.url, '--api', 'v2', '--out', out, '--json'], io)).toBe(0);
    const events = io.out().trim().split('\n').map((l) => JSON.parse(l) as { type: string; path?: string; mime?: string });
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('queued');
    expect(types).toContain('progress');
    expect(types.slice(-2)).toEqual(['output', 'done']);
    const saved = await readFile(events.find((e) => e.type === 'output')!.path!);
    expect(saved.subarray(1, 4).toString()).toBe('PNG');
  });

  it('takes a v2: COMFY_URL and the key for Comfy Cloud; a wrong key is one clear error line', async () => {
    const { v2, dir, file } = await setup('cloud');
    const ok = memoryIO({ COMFY_URL: `v2:${v2.url}`, COMFY_API_KEY: 'cloud-key' });
    expect(await run([file, '--out', join(dir, 'a'), '--json'], ok)).toBe(0);
    const bad = memoryIO({ COMFY_URL: `v2:${v2.url}` });
    expect(await run([file, '--out', join(dir, 'b'), '--api-key', 'nope'], bad)).toBe(1);
    expect(bad.err()).toMatch(/API key was refused/);
  });

  it('refuses an unknown --api value', async () => {
    const io = memoryIO({});
    expect(await run(['wf.json', '--out', 'x', '--api', 'v3'], io)).toBe(2);
    expect(io.err()).toMatch(/--api must be "classic" or "v2"/);
  });
});
