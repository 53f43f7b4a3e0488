import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { http, RecordingSocket } from './client.js';
import { useFakeComfy } from './session.js';
import { loadTranscript, normalise, shapeOf } from './transcripts.js';

const comfy = useFakeComfy();

/** Response bodies whose values depend on the machine: compare their shape only. */
const SHAPE_ONLY = ['/system_stats', '/api/system_stats'];

describe('00-http-basics replay', () => {
  it('answers every recorded GET with the same status, content type and body', async () => {
    const fake = await comfy.start({ models: { checkpoints: ['random-sd15-fp16.safetensors'], embeddings: [] } });
    const exchanges = loadTranscript('00-http-basics').http.filter((h) => h.path !== '/object_info' && h.path !== '/');
    expect(exchanges.length).toBeGreaterThan(20);
    for (const recorded of exchanges) {
      const live = await http(fake.url, recorded.method, recorded.path);
      expect(live.status, recorded.path).toBe(recorded.status);
      expect(live.headers['content-type'], recorded.path).toBe(recorded.response_headers['content-type']);
      if (recorded.response_json === undefined) continue;
      if (SHAPE_ONLY.includes(recorded.path)) expect(shapeOf(live.json), recorded.path).toEqual(shapeOf(recorded.response_json));
      else expect(live.json, recorded.path).toEqual(recorded.response_json);
    }
  });

  it('serves the full object_info with the configured models in the loader combos', async () => {
    const fake = await comfy.start({ models: { checkpoints: ['a.safetensors', 'b.safetensors'], upscale_models: ['4x.pth'] } });
    const info = (await http(fake.url, 'GET', '/object_info')).json as Record<string, { input: { required: Record<string, unknown[]> } }>;
    expect(Object.keys(info).length).toBeGreaterThan(470);
    expect(info['CheckpointLoaderSimple']!.input.required['ckpt_name']![0]).toEqual(['a.safetensors', 'b.safetensors']);
    expect(info['UpscaleModelLoader']!.input.required['model_name']![0]).toEqual(['4x.pth']);
    const core = await comfy.start({ objectInfo: 'core' });
    const coreInfo = (await http(core.url, 'GET', '/object_info')).json as Record<string, unknown>;
    expect(Object.keys(coreInfo)).toContain('KSampler');
    expect(Object.keys(coreInfo).length).toBeLessThan(40);
  });

  it('answers 403 with an empty body when Origin does not match a loopback Host, for HTTP and the socket', async () => {
    const fake = await comfy.start();
    const refused = await http(fake.url, 'GET', '/system_stats', undefined, { origin: 'http://evil.example' });
    expect(refused.status).toBe(403);
    expect(refused.text).toBe('');
    const sameHost = await http(fake.url, 'GET', '/system_stats', undefined, { origin: fake.url });
    expect(sameHost.status).toBe(200);
    await expect(RecordingSocket.open(fake.url, { headers: { origin: 'http://evil.example' } })).rejects.toThrow(/403/);
  });
});

describe('05/06 validation replay', () => {
  it.each(['05-validation-errors', '06-missing-node-class'])('%s: every recorded POST /prompt gets the same answer', async (name) => {
    const fake = await comfy.start();
    const exchanges = loadTranscript(name).http.filter((h) => h.method === 'POST' && h.path === '/prompt');
    for (const recorded of exchanges) {
      const body = recorded.request_json ?? (recorded as { request_json?: unknown; request_description?: unknown }).request_description;
      const raw = (recorded as unknown as { request_json?: { raw?: string } }).request_json?.raw;
      const live = await http(fake.url, 'POST', '/prompt', raw ?? body);
      const label = JSON.stringify(body).slice(0, 120);
      expect(live.status, label).toBe(recorded.status);
      if (recorded.response_text !== undefined) {
        expect(live.text, label).toBe(recorded.response_text);
        expect(live.headers['content-type']).toBe('text/plain; charset=utf-8');
        continue;
      }
      const strip = (json: unknown): unknown => {
        const copy = normalise(json) as Record<string, unknown>;
        if ('number' in copy) copy['number'] = typeof copy['number'];
        return copy;
      };
      expect(strip(live.json), label).toEqual(strip(recorded.response_json));
    }
  });

  it('c9: only the valid branch of a partly invalid prompt runs', async () => {
    const fake = await comfy.start();
    const c9 = loadTranscript('05-validation-errors').http.find((h) => h.path === '/prompt' && h.status === 200 &&
      Object.keys((h.response_json as { node_errors: object }).node_errors).length > 0)!;
    const socket = await comfy.open({ clientId: 'c9' });
    const body = { ...(c9.request_json as object), client_id: 'c9' };
    const live = (await http(fake.url, 'POST', '/prompt', body)).json as { prompt_id: string; node_errors: Record<string, unknown> };
    expect(Object.keys(live.node_errors)).toEqual(['1']);
    await socket.finished(live.prompt_id);
    const ran = socket.texts('executing').map((m) => m.data['node']).filter((n) => n !== null);
    const entry = fake.history.get(live.prompt_id)!;
    expect(ran).not.toContain('1');
    expect(ran).not.toContain('3');
    expect(entry.prompt[4]).not.toContain('3');
    expect(Object.keys(entry.outputs)).toHaveLength(1);
  });

  it('increments number across rejected submits, negates it for front, rejects bodies over the limit with 413', async () => {
    const fake = await comfy.start({ maxBodyBytes: 4096 });
    const good = { prompt: { '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } }, '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } } } };
    const first = (await http(fake.url, 'POST', '/prompt', good)).json as { number: number };
    expect((await http(fake.url, 'POST', '/prompt', { client_id: 'x' })).status).toBe(400);
    const third = (await http(fake.url, 'POST', '/prompt', { ...good, front: true })).json as { number: number };
    expect(third.number).toBe(-(first.number + 2));
    const huge = await http(fake.url, 'POST', '/prompt', { ...good, padding: 'x'.repeat(5000) });
    expect(huge.status).toBe(413);
    expect(fake.requests.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual(['/prompt', '/prompt', '/prompt', '/prompt']);
    expect(fake.requests[0]!.body).toEqual(good);
  });
});

describe('02-upload-image replay', () => {
  it('dedups identical bytes, renames different bytes, honours overwrite/subfolder/type and refuses bad parts', async () => {
    const fake = await comfy.start();
    const original = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#336699' } }).png().toBuffer();
    const other = await sharp({ create: { width: 40, height: 40, channels: 4, background: '#ff000080' } }).png().toBuffer();
    const name = 'transcript-input-mx123hts.png';
    const form = (bytes: Buffer | undefined, fields: Record<string, string> = {}): FormData => {
      const data = new FormData();
      if (bytes) data.set('image', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), name);
      for (const [k, v] of Object.entries(fields)) data.set(k, v);
      return data;
    };
    const steps: [FormData, string][] = [
      [form(original), 'new'],
      [form(original), 'duplicate'],
      [form(other), 'different bytes'],
      [form(other, { overwrite: 'true' }), 'overwrite'],
      [form(original, { overwrite: 'true' }), 'restore'],
      [form(original, { subfolder: 'transcripts', type: 'input' }), 'subfolder'],
      [form(original, { type: 'temp' }), 'temp'],
      [form(undefined, { type: 'input' }), 'no image'],
      [form(original, { subfolder: '../..' }), 'traversal'],
    ];
    const recorded = loadTranscript('02-upload-image').http.filter((h) => h.path === '/upload/image');
    expect(recorded).toHaveLength(steps.length);
    for (const [i, [body, label]] of steps.entries()) {
      const live = await http(fake.url, 'POST', '/upload/image', body);
      expect(live.status, label).toBe(recorded[i]!.status);
      if (recorded[i]!.response_json) expect(live.json, label).toEqual(recorded[i]!.response_json);
      else expect(live.text, label).toBe('');
    }
    const typeRefused = await http(fake.url, 'POST', '/upload/image', form(original, { type: 'weird' }));
    expect(typeRefused.status).toBe(500);

    const view = await http(fake.url, 'GET', `/view?filename=${name}&type=input`);
    expect(view.bytes.equals(original)).toBe(true);
    const sub = await http(fake.url, 'GET', `/view?filename=${name}&type=input&subfolder=transcripts`);
    expect(sub.status).toBe(200);
    const webp = await http(fake.url, 'GET', `/view?filename=${name}&type=input&preview=webp;50`);
    expect(webp.headers['content-type']).toBe('image/webp');
    expect((await sharp(webp.bytes).metadata()).format).toBe('webp');
    const alpha = await http(fake.url, 'GET', `/view?filename=${name}&type=input&channel=a`);
    expect(await sharp(alpha.bytes).metadata()).toMatchObject({ format: 'png', width: 64, height: 48 });
    expect((await http(fake.url, 'GET', `/view?filename=${name}&type=input&subfolder=../..`)).status).toBe(403);
    expect((await http(fake.url, 'GET', `/view?filename=${name}&type=elsewhere`)).status).toBe(400);
    expect((await http(fake.url, 'GET', '/view?type=input')).status).toBe(404);

    const mask = new FormData();
    mask.set('image', new Blob([new Uint8Array(other)], { type: 'image/png' }), 'clipspace-mask-mx123hts.png');
    mask.set('original_ref', JSON.stringify({ filename: name, subfolder: '', type: 'input' }));
    mask.set('type', 'input');
    mask.set('subfolder', 'clipspace');
    const masked = await http(fake.url, 'POST', '/upload/mask', mask);
    expect(masked.json).toEqual({ name: 'clipspace-mask-mx123hts.png', subfolder: 'clipspace', type: 'input' });
    const maskedFile = await http(fake.url, 'GET', '/view?filename=clipspace-mask-mx123hts.png&type=input&subfolder=clipspace');
    expect(await sharp(maskedFile.bytes).metadata()).toMatchObject({ width: 64, height: 48, channels: 4 });
    const noRef = new FormData();
    noRef.set('image', new Blob([new Uint8Array(other)]), 'm.png');
    expect((await http(fake.url, 'POST', '/upload/mask', noRef)).status).toBe(400);

    const loadImage = (await http(fake.url, 'GET', '/object_info/LoadImage')).json as { LoadImage: { input: { required: { image: [string[]] } } } };
    expect(loadImage.LoadImage.input.required.image[0]).toEqual(expect.arrayContaining(['example.png', name, 'transcript-input-mx123hts (1).png', `transcripts/${name}`]));
  });
});
