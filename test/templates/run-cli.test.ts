import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIO } from '../../src/cli/io.js';
import { run } from '../../src/cli/run.js';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/index.js';
import { closedPort, ROOT } from './support.js';

let fake: FakeComfy;
let dir: string;
let picture: string;
const shipped = ['--commands-dir', path.join(ROOT, 'commands'), '--templates-dir', path.join(ROOT, 'templates')];

beforeAll(async () => {
  fake = await startFakeComfy({ models: { checkpoints: ['v1-5-pruned-emaonly.safetensors'], upscale_models: ['4x-UltraSharp.pth'] } });
  dir = await mkdtemp(path.join(tmpdir(), 'comfycord-run-'));
  picture = path.join(dir, 'cat.jpg');
  await writeFile(picture, await sharp({ create: { width: 48, height: 32, channels: 3, background: '#884422' } }).jpeg().toBuffer());
});

afterAll(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO(env);
  const code = await run([...args, ...shipped], io);
  return { code, out: io.out(), err: io.err() };
}

describe('comfycord run', () => {
  it('runs /imagine and writes the image, reporting the parameters used', async () => {
    const out = path.join(dir, 'imagine');
    const { code, out: stdout, err } = await cli(['imagine', 'prompt=a red fox', 'steps=3', 'seed=18446744073709551615', '--out', out, '--server', fake.url]);
    expect(err).toContain('succeeded');
    expect(code).toBe(0);
    // The model left to the command's preference is chosen on the server, so it is listed after the others.
    expect(stdout).toMatch(/^\/imagine prompt="a red fox" size=1:1 batch=1 seed=18446744073709551615 steps=3 .* model=v1-5-pruned-emaonly\.safetensors\n/);
    const files = await readdir(out);
    expect(files).toHaveLength(1);
    const bytes = await readFile(path.join(out, files[0]!));
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    const sent = fake.requests.findLast((request) => request.method === 'POST' && request.path.endsWith('/prompt'));
    expect((sent?.body as { prompt: Record<string, { inputs: Record<string, unknown> }> }).prompt['3']?.inputs.seed).toBe('18446744073709551615');
  });

  it('runs /imagine on a server whose only checkpoint has another name, with that checkpoint', async () => {
    const other = await startFakeComfy({ models: { checkpoints: ['other_model.safetensors'] } });
    try {
      const out = path.join(dir, 'other');
      const { code, out: stdout } = await cli(['imagine', 'prompt=a red fox', 'steps=3', '--out', out, '--server', other.url, '--json']);
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ state: 'succeeded', params: { model: 'other_model.safetensors' } });
      const sent = other.requests.findLast((request) => request.method === 'POST' && request.path.endsWith('/prompt'));
      expect((sent?.body as { prompt: Record<string, { inputs: Record<string, unknown> }> }).prompt['4']?.inputs.ckpt_name).toBe('other_model.safetensors');
    } finally {
      await other.close();
    }
  });

  it('uploads --image through the media checks and binds the uploaded name', async () => {
    const out = path.join(dir, 'reimagine');
    const { code, out: stdout } = await cli(['reimagine', 'prompt=as a watercolour', 'strength=0.5', '--image', picture, '--out', out, '--server', fake.url, '--json']);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { state: string; params: Record<string, unknown>; files: Array<{ path: string; mime: string }> };
    expect(result).toMatchObject({ state: 'succeeded', params: { prompt: 'as a watercolour', strength: 0.5 } });
    expect(result.files).toHaveLength(1);
    const upload = fake.requests.findLast((request) => request.path.endsWith('/upload/image'));
    expect(upload).toBeDefined();
    const sent = fake.requests.findLast((request) => request.method === 'POST' && request.path.endsWith('/prompt'));
    const image = (sent?.body as { prompt: Record<string, { inputs: Record<string, unknown> }> }).prompt['10']?.inputs.image;
    expect(image).toMatch(/cat\.jpg$/);
  });

  it.each([
    [['imagine', 'prompt=x', 'steps=80'], 'steps must be between 1 and 50 (got 80)'],
    [['imagine', 'steps=3'], 'prompt is required'],
    [['imagine', 'prompt=x', 'colour=red'], '/imagine has no option "colour"'],
    [['imagine', 'prompt=x', '--image', 'x.png'], '/imagine takes no image'],
    [['paint', 'prompt=x'], 'no command "paint" (loaded: blend, imagine, outpaint, reimagine, resize, upscale, zoom15, zoom2)'],
    [['reimagine', 'prompt=x'], 'image is required: attach an image'],
    [['reimagine', 'prompt=x', 'image=/no/such/file.png'], 'image: cannot read /no/such/file.png (ENOENT)'],
  ])('refuses %j before contacting the server', async (args, message) => {
    const { code, err } = await cli([...args, '--out', path.join(dir, 'never'), '--server', 'http://127.0.0.1:9']);
    expect(err).toBe(`comfycord run: ${message}\n`);
    expect(code).toBe(2);
  });

  it('refuses a file that is not an image', async () => {
    const text = path.join(dir, 'notes.png');
    await writeFile(text, 'just some text, not a picture');
    const { code, err } = await cli(['reimagine', 'prompt=x', `image=${text}`, '--out', dir, '--server', 'http://127.0.0.1:9']);
    expect(err).toBe('comfycord run: image: that file is not an image\n');
    expect(code).toBe(2);
  });

  it('needs --out and a command', async () => {
    expect((await cli(['imagine', 'prompt=x'])).err).toBe('comfycord run: --out DIR is required\n');
    expect((await cli(['--out', dir])).err).toMatch(/^comfycord run: which command\?/);
  });

  it('reports a job no backend can run, as the bot would', async () => {
    const { code, err } = await cli(['imagine', 'prompt=x', 'model=not-installed.safetensors', '--out', path.join(dir, 'refused'), '--server', fake.url]);
    expect(err).toBe('/imagine refused: no backend can run this: model not-installed.safetensors is not installed on any backend\n');
    expect(code).toBe(1);
  });

  it('fails with the reason the server gives when ComfyUI refuses the prompt', async () => {
    const { code, err } = await cli(['imagine', 'prompt=x', 'sampler=warp_drive', '--out', path.join(dir, 'failed'), '--server', fake.url]);
    expect(err).toMatch(/^\/imagine failed: .*warp_drive/m);
    expect(code).toBe(1);
  });

  it('finds the server and its key in COMFY_URL and COMFY_API_KEY when no flag names them', async () => {
    const models = { checkpoints: ['v1-5-pruned-emaonly.safetensors'], upscale_models: [] };
    const cloud = await startFakeComfy({ models, profile: 'cloud', apiKey: 'secret-key' });
    try {
      const out = path.join(dir, 'from-env');
      const { code, err } = await cli(['imagine', 'prompt=x', 'steps=1', '--out', out], { COMFY_URL: cloud.url, COMFY_API_KEY: 'secret-key' });
      expect(err).toContain('succeeded');
      expect(code).toBe(0);
      expect(cloud.requests.some((request) => request.method === 'POST' && request.path.endsWith('/prompt'))).toBe(true);
      expect(await readdir(out)).toHaveLength(1);
    } finally {
      await cloud.close();
    }
  });

  it('names COMFY_URL when it is not a URL', async () => {
    await expect(cli(['imagine', 'prompt=x', '--out', dir], { COMFY_URL: 'gpu-box:8188' })).rejects.toThrow('COMFY_URL: must be an http(s) URL (got "gpu-box:8188")');
  });

  it('says when the server cannot be reached', async () => {
    const port = await closedPort();
    const { code, err } = await cli(['imagine', 'prompt=x', '--out', dir, '--server', `http://127.0.0.1:${port}`]);
    expect(err).toContain(`comfycord run: cannot reach ComfyUI at http://127.0.0.1:${port}`);
    expect(code).toBe(1);
  });
});
