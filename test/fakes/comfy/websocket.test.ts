import { describe, expect, it } from 'vitest';
import { http } from './client.js';
import { useFakeComfy } from './session.js';
import { loadTranscript, sequence } from './transcripts.js';

const comfy = useFakeComfy();


const SIMPLE = {
  '1': { class_type: 'EmptyImage', inputs: { width: 16, height: 16, batch_size: 1, color: 65280 } },
  '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
  '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'ws' } },
};

async function submit(body: Record<string, unknown>): Promise<string> {
  const response = await http(comfy.fake.url, 'POST', '/prompt', body);
  expect(response.status, response.text).toBe(200);
  return (response.json as { prompt_id: string }).prompt_id;
}

describe('01-ws-connect replay', () => {
  it('sid, feature flags only as the first message, same clientId replaces the older socket, /api/ws', async () => {
    await comfy.start();
    const recorded = loadTranscript('01-ws-connect').frames;
    const a = await comfy.open();
    const b = await comfy.open({ clientId: 'client-b', flags: { supports_preview_metadata: true } });
    const c = await comfy.open({ clientId: 'client-c' });
    c.ws.send(JSON.stringify({ type: 'hello', data: {} }));
    c.ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
    const d = await comfy.open({ clientId: 'client-d' });
    d.ws.send('this is not json');
    const b2 = await comfy.open({ clientId: 'client-b' });
    const e = await comfy.open({ clientId: 'client-e', path: '/api/ws' });

    const sid = a.texts('status')[0]!.data['sid'];
    expect(sid).toMatch(/^[0-9a-f]{32}$/);
    expect(b.texts('feature_flags')[0]!.data).toEqual({ supports_preview_metadata: true, max_upload_size: 104857600 });

    const promptId = await submit({ prompt: SIMPLE, client_id: 'client-b' });
    await b2.finished(promptId);
    for (const s of [a, c, d, e]) {
      await s.waitFor((f) => f.kind === 'text' && f.json.type === 'status' && (f.json.data['status'] as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining === 0, { after: 1 });
    }
    const labelsOf = (label: string): string[] => sequence(recorded.get(label) ?? []);
    expect(a.labels()).toEqual(labelsOf('A-no-clientId'));
    expect(b.labels()).toEqual(labelsOf('B-flags'));
    expect(c.labels()).toEqual(labelsOf('C-late-flags'));
    expect(d.labels()).toEqual(labelsOf('D-bad-json'));
    expect(b2.labels()).toEqual(labelsOf('B2-same-clientId'));
    expect(e.labels()).toEqual(labelsOf('E-api-prefix'));
  });

  it('replays executing{node} without prompt_id to a client reconnecting while its prompt runs', async () => {
    const fake = await comfy.start();
    const first = await comfy.open({ clientId: 'owner' });
    fake.hold();
    const promptId = await submit({ prompt: SIMPLE, client_id: 'owner' });
    await first.waitFor((f) => f.kind === 'text' && f.json.type === 'execution_cached');
    fake.release();
    fake.hold();
    // the gate is passed for node 1; node 2 waits
    await first.waitFor((f) => f.kind === 'text' && f.json.type === 'executing' && f.json.data['node'] === '1');
    await first.close();
    const second = await comfy.open({ clientId: 'owner' });
    expect(second.frames[1]).toEqual({ kind: 'text', json: { type: 'executing', data: { node: '1' } } });
    const observer = await comfy.open({ clientId: 'someone-else' });
    expect(observer.labels()).toEqual(['status']);
    fake.release();
    await second.finished(promptId);
  });

  it('routes a prompt without client_id: progress to everyone, no execution_* to anyone; observers see only status', async () => {
    const fake = await comfy.start();
    const one = await comfy.open({ clientId: 'one' });
    const two = await comfy.open({ clientId: 'two', flags: { supports_preview_metadata: true } });
    const sampler = {
      '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd15.safetensors' } },
      '5': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
      '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a cat', clip: ['4', 1] } },
      '3': { class_type: 'KSampler', inputs: { seed: 1, steps: 2, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['6', 0], latent_image: ['5', 0] } },
      '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
      '9': { class_type: 'PreviewImage', inputs: { images: ['8', 0] } },
    };
    const done = fake.next('prompt-done');
    await submit({ prompt: sampler });
    await done;
    await two.waitFor((f) => f.kind === 'text' && f.json.type === 'status' && (f.json.data['status'] as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining === 0, { after: 1 });
    for (const socket of [one, two]) {
      const labels = new Set(socket.labels());
      expect(labels.has('progress')).toBe(true);
      expect(labels.has('bin:1')).toBe(true); // type 1 even for the flags client: nobody owns the prompt
      for (const hidden of ['execution_start', 'execution_success', 'executing', 'executed', 'bin:4']) expect(labels.has(hidden), hidden).toBe(false);
    }
  });
});
