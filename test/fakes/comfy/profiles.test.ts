import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { describe, expect, it, vi } from 'vitest';
import { http, RecordingSocket } from './client.js';
import { useFakeComfy } from './session.js';

const comfy = useFakeComfy();


const SAMPLER = {
  '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd15.safetensors' } },
  '5': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
  '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a cat', clip: ['4', 1] } },
  '3': { class_type: 'KSampler', inputs: { seed: 1, steps: 3, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['6', 0], latent_image: ['5', 0] } },
  '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
  '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'profile' } },
};

const MISSING = { '1': { class_type: 'NoSuchNode', inputs: {} }, '2': { class_type: 'SaveImage', inputs: { images: ['1', 0] } } };

describe("profile 'legacy' (before July 2025)", () => {
  it('has no feature flags, no progress_state, ignores client prompt_id and treats a targeted interrupt as global', async () => {
    const fake = await comfy.start({ profile: 'legacy' });
    expect((await http(fake.url, 'GET', '/features')).status).toBe(404);
    const socket = await comfy.open({ clientId: 'old' });
    socket.ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
    const mine = 'my-own-id';
    const submitted = (await http(fake.url, 'POST', '/prompt', { prompt: SAMPLER, client_id: 'old', prompt_id: mine })).json as { prompt_id: string };
    expect(submitted.prompt_id).not.toBe(mine);
    await socket.finished(submitted.prompt_id);
    const labels = socket.labels();
    expect(labels).not.toContain('feature_flags');
    expect(labels).not.toContain('progress_state');
    expect(labels.filter((l) => l === 'bin:1')).toHaveLength(3);

    fake.hold();
    const again = (await http(fake.url, 'POST', '/prompt', { prompt: { ...SAMPLER, '3': { ...SAMPLER['3'], inputs: { ...SAMPLER['3'].inputs, seed: 2 } } }, client_id: 'old' })).json as { prompt_id: string };
    await socket.waitFor((f) => f.kind === 'text' && f.json.type === 'execution_cached' && f.json.data['prompt_id'] === again.prompt_id);
    await http(fake.url, 'POST', '/interrupt', { prompt_id: 'some-other-prompt' });
    fake.release();
    await socket.finished(again.prompt_id);
    expect(fake.history.get(again.prompt_id)?.status.messages.map(([name]) => name)).toContain('execution_interrupted');
  });
});

describe("profile 'v0.3.64'", () => {
  it('str()s any client prompt_id, reports invalid_prompt, has no jobs API, describes a cuda device', async () => {
    const fake = await comfy.start();
    const stats = (await http(fake.url, 'GET', '/system_stats')).json as { system: { comfyui_version: string; argv: string[] }; devices: { type: string; vram_total: number }[] };
    expect(stats.system.comfyui_version).toBe('0.3.64');
    expect(stats.system.argv.join(' ')).toContain('--preview-method auto');
    expect(stats.devices[0]).toMatchObject({ type: 'cuda' });
    expect((await http(fake.url, 'POST', '/prompt', { prompt: SAMPLER, prompt_id: null })).json).toMatchObject({ prompt_id: 'None' });
    expect((await http(fake.url, 'POST', '/prompt', { prompt: MISSING })).json).toMatchObject({ error: { type: 'invalid_prompt' } });
    expect((await http(fake.url, 'GET', '/api/jobs')).status).toBe(404);
  });

  it('previewMethod none sends progress without binary frames; samplerSteps overrides the workflow', async () => {
    const fake = await comfy.start({ previewMethod: 'none', samplerSteps: 5 });
    const socket = await comfy.open({ clientId: 'np' });
    const steps: number[] = [];
    fake.events.on('step', (_id, _node, value) => steps.push(value));
    const { prompt_id } = (await http(fake.url, 'POST', '/prompt', { prompt: SAMPLER, client_id: 'np' })).json as { prompt_id: string };
    await socket.finished(prompt_id);
    expect(steps).toEqual([1, 2, 3, 4, 5]);
    expect(socket.labels().filter((l) => l.startsWith('bin:'))).toEqual([]);
    expect(socket.texts('progress').map((m) => m.data['max'])).toEqual([5, 5, 5, 5, 5]);
  });
});

describe("profile 'new'", () => {
  it('requires canonical UUID prompt ids, reports missing_node_type and serves the jobs API at /api/jobs only', async () => {
    const fake = await comfy.start({ profile: 'new' });
    const bad = await http(fake.url, 'POST', '/prompt', { prompt: SAMPLER, prompt_id: 'not-a-uuid' });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: { type: 'invalid_prompt_id' }, node_errors: {} });
    const upper = await http(fake.url, 'POST', '/prompt', { prompt: SAMPLER, prompt_id: randomUUID().toUpperCase() });
    expect(upper.status).toBe(400);
    expect((await http(fake.url, 'POST', '/prompt', { prompt: MISSING })).json).toMatchObject({
      error: { type: 'missing_node_type', extra_info: { node_id: '1', class_type: 'NoSuchNode' } },
    });
    const flags = (await http(fake.url, 'GET', '/features')).json as Record<string, unknown>;
    expect(flags).toMatchObject({ supports_preview_metadata: true, supports_model_type_tags: true });

    const socket = await comfy.open({ clientId: 'jobs' });
    const id = randomUUID();
    fake.hold();
    const submitted = (await http(fake.url, 'POST', '/prompt', { prompt: SAMPLER, prompt_id: id, client_id: 'jobs', extra_data: { api_key_comfy_org: 'secret' } })).json as { prompt_id: string };
    expect(submitted.prompt_id).toBe(id);
    const queued = randomUUID();
    await http(fake.url, 'POST', '/prompt', { prompt: SAMPLER, prompt_id: queued, client_id: 'jobs' });
    await socket.waitFor((f) => f.kind === 'text' && f.json.type === 'execution_cached');
    const list = (await http(fake.url, 'GET', '/api/jobs?status=pending,in_progress')).json as { jobs: { id: string; status: string }[]; pagination: object };
    expect(list.jobs.map((j) => [j.id, j.status]).sort()).toEqual([[id, 'in_progress'], [queued, 'pending']].sort());
    expect(list.pagination).toMatchObject({ total: 2, has_more: false });
    const detail = (await http(fake.url, 'GET', `/api/jobs/${id}`)).json as { workflow: { extra_data: Record<string, unknown> } };
    expect(detail.workflow.extra_data['api_key_comfy_org']).toBeUndefined();
    expect((await http(fake.url, 'POST', `/api/jobs/${queued}/cancel`)).json).toEqual({ cancelled: true });
    expect((await http(fake.url, 'POST', `/api/jobs/${queued}/cancel`)).json).toEqual({ cancelled: false });
    expect((await http(fake.url, 'POST', `/api/jobs/${id}/cancel`)).json).toEqual({ cancelled: true });
    fake.release();
    await socket.finished(id);
    const done = (await http(fake.url, 'GET', `/api/jobs/${id}`)).json as { status: string; execution_status: object };
    expect(done.status).toBe('cancelled');
    expect((await http(fake.url, 'GET', '/api/jobs/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await http(fake.url, 'GET', '/api/jobs?status=bogus')).json).toMatchObject({ error: expect.stringContaining('bogus') });
    expect((await http(fake.url, 'GET', '/api/jobs?limit=-1')).status).toBe(400);
    expect((await http(fake.url, 'POST', '/api/jobs/cancel', { job_ids: ['nope'] })).json).toMatchObject({ invalid_ids: ['nope'] });
    expect((await http(fake.url, 'GET', '/jobs')).status).toBe(404);
  });

  it('honours extra_data.preview_method per prompt', async () => {
    const fake = await comfy.start({ profile: 'new' });
    const socket = await comfy.open({ clientId: 'pm' });
    const quiet = (await http(fake.url, 'POST', '/prompt', { prompt: SAMPLER, client_id: 'pm', extra_data: { preview_method: 'none' } })).json as { prompt_id: string };
    await socket.finished(quiet.prompt_id);
    expect(socket.labels().filter((l) => l.startsWith('bin:'))).toEqual([]);
    const seeded = { ...SAMPLER, '3': { ...SAMPLER['3'], inputs: { ...SAMPLER['3'].inputs, seed: 5 } } };
    const loud = (await http(fake.url, 'POST', '/prompt', { prompt: seeded, client_id: 'pm', extra_data: { preview_method: 'auto' } })).json as { prompt_id: string };
    await socket.finished(loud.prompt_id);
    expect(socket.labels().filter((l) => l.startsWith('bin:'))).toEqual(['bin:1', 'bin:1', 'bin:1']);
  });
});

describe("profile 'cloud'", () => {
  it('needs X-API-Key, serves only /api/, takes the key as ?token= on the socket, and redirects /api/view', async () => {
    const fake = await comfy.start({ profile: 'cloud', apiKey: 'k-123' });
    const key = { 'x-api-key': 'k-123' };
    const anonymous = await http(fake.url, 'GET', '/api/system_stats');
    expect(anonymous.status).toBe(401);
    expect(anonymous.json).toMatchObject({ error: 'Unauthorized' });
    expect((await http(fake.url, 'GET', '/system_stats', undefined, key)).status).toBe(404);
    await expect(RecordingSocket.open(fake.url, { clientId: 'c', path: '/ws' })).rejects.toThrow(/401/);
    const socket = await comfy.open({ clientId: 'c', path: '/ws', query: { token: 'k-123' } });

    const submitted = (await http(fake.url, 'POST', '/api/prompt', { prompt: SAMPLER, client_id: 'c' }, key)).json as { prompt_id: string };
    await socket.finished(submitted.prompt_id);
    const status = (await http(fake.url, 'GET', `/api/job/${submitted.prompt_id}/status`, undefined, key)).json;
    expect(status).toMatchObject({ id: submitted.prompt_id, status: 'success', error_message: null });
    const file = (fake.history.get(submitted.prompt_id)!.outputs['9'] as { images: { filename: string }[] }).images[0]!.filename;

    const redirect = await http(fake.url, 'GET', `/api/view?filename=${file}&type=output`, undefined, key);
    expect(redirect.status).toBe(302);
    const location = String(redirect.headers['location']);
    expect(new URL(location).port).not.toBe(new URL(fake.url).port);
    const leaked = await request(location, { headers: key });
    await leaked.body.dump();
    expect(leaked.statusCode).toBe(403);
    const signed = await http(location, 'GET', '');
    expect(signed.status).toBe(200);
    expect(signed.bytes.subarray(1, 4).toString()).toBe('PNG');
  });
});

describe('options', () => {
  it('stepDelayMs spends that long per node and per sampler step (driven by fake timers)', async () => {
    const fake = await comfy.start({ stepDelayMs: 10_000 });
    const socket = await comfy.open({ clientId: 'slow' });
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      const started: string[] = [];
      fake.events.on('node-start', (_id, node) => started.push(node));
      const firstNode = fake.next('node-start');
      const { prompt_id } = (await http(fake.url, 'POST', '/prompt', { prompt: { '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } }, '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } } }, client_id: 'slow' })).json as { prompt_id: string };
      await firstNode;
      expect(started).toEqual(['1']);
      const secondNode = fake.next('node-start');
      await vi.advanceTimersByTimeAsync(9_999);
      expect(started).toEqual(['1']);
      await vi.advanceTimersByTimeAsync(1);
      await secondNode;
      expect(started).toEqual(['1', '2']);
      const finished = socket.finished(prompt_id);
      await vi.advanceTimersByTimeAsync(10_000);
      await finished;
    } finally {
      vi.useRealTimers();
    }
  });

  it('serves the ComfyUI-Manager routes only when asked to', async () => {
    const plain = await comfy.start();
    expect((await http(plain.url, 'GET', '/manager/queue/status')).status).toBe(404);
    await plain.close();
    const fake = await comfy.start({ manager: true });
    expect((await http(fake.url, 'GET', '/manager/queue/status')).json).toMatchObject({ is_processing: false });
    expect((await http(fake.url, 'POST', '/api/manager/queue/install', { git_url: 'https://example.invalid/x.git' })).status).toBe(200);
  });
});
