// The shipped commands, prepared exactly as the bot prepares them, are accepted by the fake ComfyUI's validator.
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComfyHttp } from '../../src/comfy/http.js';
import { CommandRegistry } from '../../src/templates/registry.js';
import { bindImages, prepareJob } from '../../src/templates/prepare.js';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/index.js';
import { ROOT } from './support.js';

let fake: FakeComfy;
let http: ComfyHttp;
let registry: CommandRegistry;
let uploaded: string;

beforeAll(async () => {
  fake = await startFakeComfy({ models: { checkpoints: ['v1-5-pruned-emaonly.safetensors', 'sdxl.safetensors'], upscale_models: ['4x-UltraSharp.pth'] } });
  http = new ComfyHttp({ name: 'fake', url: fake.url });
  registry = await CommandRegistry.load({ commandsDir: path.join(ROOT, 'commands'), templatesDir: path.join(ROOT, 'templates') });
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#3366aa' } }).png().toBuffer();
  const answer = await http.upload(png, 'cat.png');
  uploaded = answer.subfolder ? `${answer.subfolder}/${answer.name}` : answer.name;
});

afterAll(async () => {
  await fake.close();
});

const values: Record<string, Record<string, unknown>> = {
  imagine: { prompt: 'a lighthouse at dusk', seed: '18446744073709551615', model: 'sdxl.safetensors', sampler: 'dpmpp_2m', size: 'landscape-xl' },
  reimagine: { image: { id: 'attachment-1' }, prompt: 'as a watercolour', strength: 0.45 },
  upscale: { image: { id: 'attachment-2' }, model: '4x-UltraSharp.pth' },
  resize: { image: { id: 'attachment-3' }, scale: 1.5, method: 'bicubic' },
  outpaint: { image: { id: 'attachment-4' }, direction: 'all', prompt: 'more sky' },
};

describe('shipped commands against the fake ComfyUI', () => {
  it.each(Object.keys(values))('/%s is accepted by /prompt', async (name) => {
    const command = registry.commands.get(name);
    if (!command) throw new Error(`shipped command /${name} did not load: ${JSON.stringify(registry.problems)}`);
    const prepared = prepareJob(command, values[name] as Record<string, unknown>);
    const uploads = Object.fromEntries(prepared.images.map((image) => [image.option, uploaded]));
    const workflow = bindImages(prepared, uploads);
    const result = await http.postPrompt({ prompt: workflow, client_id: 'templates-test' });
    expect(result.nodeErrors).toEqual({});
    expect(result.promptId).toMatch(/\S/);
    const sent = fake.requests.findLast((request) => request.path.endsWith('/prompt') && request.method === 'POST');
    expect((sent?.body as { prompt: unknown }).prompt).toEqual(workflow);
  });

  it('is a real oracle: the fake refuses a value the templates room would have refused', async () => {
    const prepared = prepareJob(registry.commands.get('imagine')!, { prompt: 'x' });
    prepared.workflow['3']!.inputs.steps = 20000;
    await expect(http.postPrompt({ prompt: prepared.workflow, client_id: 'templates-test' })).rejects.toThrow(/steps/);
  });

  it('sends a hostile prompt as one literal string', async () => {
    const hostile = '"}, "99": {"class_type": "SaveImage", "inputs": {}}, "x": ["';
    const prepared = prepareJob(registry.commands.get('imagine')!, { prompt: hostile });
    await http.postPrompt({ prompt: prepared.workflow, client_id: 'templates-test' });
    const sent = fake.requests.findLast((request) => request.path.endsWith('/prompt') && request.method === 'POST');
    const prompt = (sent?.body as { prompt: Record<string, { inputs: Record<string, unknown> }> }).prompt;
    expect(Object.keys(prompt).sort()).toEqual(Object.keys(registry.commands.get('imagine')!.workflow).sort());
    expect(prompt['6']?.inputs.text).toBe(hostile);
  });
});
