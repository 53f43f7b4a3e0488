// ComfyHttp route by route: paths, bodies, answers and every error path, local and Cloud.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ComfyConnectionError, ComfyHttpError, ComfyProtocolError, ComfyValidationError } from '../../src/comfy/errors.js';
import { ComfyHttp, cloudJobPhase } from '../../src/comfy/http.js';
import { useHarness } from './harness.js';
import { StubServer } from './stub-server.js';
import { httpExchanges, loadTranscript } from '../fakes/comfy/transcripts.js';

const h = useHarness();
const http = (options: { apiKey?: string; requestTimeoutMs?: number } = {}) => new ComfyHttp({ name: 'gpu1', url: h.stub.url, ...options });
const basics = loadTranscript('00');
const recorded = (path: string) => httpExchanges(basics, 'GET', path)[0]?.response_json;

describe('routes (local, /api prefix)', () => {
  it('reads system stats, features, queue remaining and object info', async () => {
    h.stub.route('GET', '/api/system_stats', () => ({ json: recorded('/system_stats') }));
    h.stub.route('GET', '/api/features', () => ({ json: recorded('/features') }));
    h.stub.route('GET', '/api/prompt', () => ({ json: { exec_info: { queue_remaining: 3 } } }));
    h.stub.route('GET', '/api/object_info/KSampler', () => ({ json: recorded('/object_info/KSampler') }));
    h.stub.route('GET', '/api/object_info/NoSuchNode', () => ({ json: {} }));
    const api = http();
    expect((await api.systemStats()).system.comfyui_version).toBe('0.3.64');
    expect(await api.features()).toMatchObject({ supports_preview_metadata: true });
    expect(await api.queueRemaining()).toBe(3);
    expect((await api.objectInfoFor('KSampler'))?.input.required).toHaveProperty('steps');
    expect(await api.objectInfoFor('NoSuchNode')).toBeUndefined();
  });

  it('reads the node class names from /object_info without its definitions, and refuses a body that is no object', async () => {
    const full = readFileSync(new URL('../fixtures/comfyui/object_info.json', import.meta.url), 'utf8');
    h.stub.route('GET', '/api/system_stats', () => ({ json: recorded('/system_stats') }));
    h.stub.route('GET', '/api/object_info', () => ({ text: full }));
    expect(await http().nodeClassNames()).toEqual(Object.keys(JSON.parse(full) as object));
    h.stub.route('GET', '/api/object_info', () => ({ text: '{"KSampler": {"input": ' }));
    await expect(http().nodeClassNames()).rejects.toThrow(/GET \/object_info.*expected a JSON object, got: \{"KSampler"/);
  });

  it('lists models and says which folder does not exist', async () => {
    h.stub.route('GET', '/api/models/checkpoints', () => ({ json: ['a.safetensors'] }));
    const api = http();
    expect(await api.models('checkpoints')).toEqual(['a.safetensors']);
    const err = await api.models('no_such_folder').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ComfyHttpError);
    expect((err as ComfyHttpError).status).toBe(404);
    expect((err as Error).message).toBe('gpu1 GET /models/no_such_folder: HTTP 404: there is no model folder "no_such_folder"');
  });

  it('reads history pages and single entries (unknown → undefined), deletes and clears', async () => {
    h.stub.route('GET', '/api/history', (req) => ({ json: { q: Object.fromEntries(req.query) } }));
    h.stub.route('GET', '/api/history/x', () => ({ json: {} }));
    h.stub.route('POST', '/api/history', () => ({}));
    const api = http();
    expect(await api.history({ maxItems: 2, offset: 1 })).toEqual({ q: { max_items: '2', offset: '1' } });
    expect(await api.historyEntry('x')).toBeUndefined();
    await api.deleteHistory(['a']);
    await api.clearHistory();
    expect(h.stub.requestsTo('POST', '/api/history').map((r) => r.json())).toEqual([{ delete: ['a'] }, { clear: true }]);
  });

  it('sorts the pending queue by number and posts delete/clear/interrupt/free bodies', async () => {
    h.stub.route('GET', '/api/queue', () => ({ json: { queue_running: [[1, 'r', {}, {}, []]], queue_pending: [[5, 'b', {}, {}, []], [-2, 'a', {}, {}, []]] } }));
    for (const p of ['/api/queue', '/api/interrupt', '/api/free']) h.stub.route('POST', p, () => ({}));
    const api = http();
    const q = await api.queue();
    expect(q.pending.map((i) => i[1])).toEqual(['a', 'b']);
    expect(q.running.map((i) => i[1])).toEqual(['r']);
    await api.deleteFromQueue(['b']);
    await api.clearQueue();
    await api.interrupt('r');
    await api.free({ unloadModels: true });
    expect(h.stub.requestsTo('POST', '/api/queue').map((r) => r.json())).toEqual([{ delete: ['b'] }, { clear: true }]);
    expect(h.stub.requestsTo('POST', '/api/interrupt')[0]?.json()).toEqual({ prompt_id: 'r' });
    expect(h.stub.requestsTo('POST', '/api/free')[0]?.json()).toEqual({ unload_models: true, free_memory: false });
  });

  it('uploads images and masks under a unique name, and returns the name the server chose', async () => {
    h.stub.route('POST', '/api/upload/image', () => ({ json: { name: 'x (1).png', subfolder: 'sub', type: 'input' } }));
    h.stub.route('POST', '/api/upload/mask', () => ({ json: { name: 'm.png', subfolder: '', type: 'input' } }));
    const api = http();
    const [a, b] = await Promise.all([api.upload(Buffer.from('one'), 'x.png', { subfolder: 'sub', overwrite: true }), api.upload(Buffer.from('two'), 'dir/x.png')]);
    expect(a).toEqual({ name: 'x (1).png', subfolder: 'sub', type: 'input' });
    expect(b.name).toBe('x (1).png');
    const bodies = h.stub.requestsTo('POST', '/api/upload/image').map((r) => r.body.toString('latin1'));
    const names = bodies.map((body) => /filename="([^"]+)"/.exec(body)?.[1]);
    expect(names[0]).toMatch(/^[0-9a-f]{8}-x\.png$/);
    expect(names[0]).not.toBe(names[1]);
    expect(bodies[0]).toContain('name="overwrite"\r\n\r\ntrue');
    expect(bodies[0]).toContain('name="subfolder"\r\n\r\nsub');
    await api.upload(Buffer.from('m'), 'm.png', { kind: 'mask', originalRef: { filename: 'x.png', subfolder: '', type: 'input' } });
    expect(h.stub.requestsTo('POST', '/api/upload/mask')[0]?.body.toString()).toContain('{"filename":"x.png","subfolder":"","type":"input"}');
    await expect(api.upload(Buffer.from('m'), 'm.png', { kind: 'mask' })).rejects.toThrow('a mask upload needs originalRef');
  });

  it('downloads with filename, subfolder and type as separate parameters', async () => {
    h.stub.route('GET', '/api/view', (req) => ({ bytes: Buffer.from(`${req.query.get('filename')}|${req.query.get('subfolder')}|${req.query.get('type')}`), headers: { 'content-type': 'image/png' } }));
    const view = await http().view({ filename: 'a.png', subfolder: '', type: 'temp' });
    expect(view).toEqual({ bytes: Buffer.from('a.png||temp'), contentType: 'image/png' });
  });

  it('uses the jobs API under /api only', async () => {
    h.stub.route('GET', '/api/jobs', (req) => ({ json: { jobs: [{ id: 'j', status: 'pending' }], pagination: { q: req.query.toString() } } }));
    h.stub.route('GET', '/api/jobs/j', () => ({ json: { id: 'j', status: 'completed' } }));
    h.stub.route('GET', '/api/jobs/nope', () => ({ status: 404, json: { error: 'Job not found' } }));
    h.stub.route('POST', '/api/jobs/j/cancel', () => ({ json: { cancelled: true } }));
    h.stub.route('POST', '/api/jobs/cancel', (req) => ({ json: { cancelled: (req.json() as { job_ids: string[] }).job_ids.length > 0 } }));
    const api = http();
    expect((await api.jobs({ status: ['pending', 'in_progress'], limit: 5 })).pagination).toEqual({ q: 'status=pending%2Cin_progress&limit=5' });
    expect(await api.job('j')).toEqual({ id: 'j', status: 'completed' });
    expect(await api.job('nope')).toBeUndefined();
    expect(await api.cancelJob('j')).toBe(true);
    expect(await api.cancelJobs(['j'])).toBe(true);
  });

  it('talks to ComfyUI-Manager and says when it is not installed', async () => {
    h.stub.route('POST', '/api/manager/queue/install', (req) => ({ json: { got: req.json() } }));
    h.stub.route('GET', '/api/manager/queue/status', () => ({ json: { total_count: 0 } }));
    const api = http();
    expect(await api.managerInstall('https://example.invalid/x.git')).toEqual({ got: { git_url: 'https://example.invalid/x.git' } });
    expect(await api.managerStatus()).toEqual({ total_count: 0 });
    await expect(api.managerInstallModel({ url: 'u', path: 'models/checkpoints', filename: 'f' })).rejects.toThrow('ComfyUI-Manager is not installed on gpu1');
  });

  it('falls back to bare paths when /api/system_stats is 404 (servers before mid-2024)', async () => {
    h.stub.route('GET', '/api/system_stats', () => ({ status: 404 }));
    h.stub.route('GET', '/queue', () => ({ json: { queue_running: [], queue_pending: [] } }));
    const api = http();
    expect(await api.queue()).toEqual({ running: [], pending: [] });
    expect(h.stub.requestsTo('GET', '/api/system_stats')).toHaveLength(1);
  });
});

describe('POST /prompt', () => {
  it('turns a 400 into ComfyValidationError using the workflow titles', async () => {
    const rejection = httpExchanges(loadTranscript('05'), 'POST', '/prompt').find((l) => l.status === 400);
    h.stub.route('POST', '/api/prompt', () => ({ status: 400, json: rejection?.response_json }));
    const err = await http()
      .postPrompt({ prompt: { '1': { class_type: 'EmptyImage', inputs: {}, _meta: { title: 'Blank' } } } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ComfyValidationError);
    expect((err as ComfyValidationError).describe()).toEqual(['Blank.width: -5 is below the minimum 1']);
  });

  it('keeps node_errors of a partially accepted prompt (200)', async () => {
    const partial = httpExchanges(loadTranscript('05'), 'POST', '/prompt').find((l) => l.status === 200)?.response_json as { prompt_id: string };
    h.stub.route('POST', '/api/prompt', () => ({ json: partial }));
    const result = await http().postPrompt({ prompt: {} });
    expect(result.promptId).toBe(partial.prompt_id);
    expect(Object.keys(result.nodeErrors)).toEqual(['1']);
  });

  it.each([
    [500, { text: '500 Internal Server Error\n\nServer got itself in trouble' }, 'gpu1 POST /prompt: HTTP 500: 500 Internal Server Error — Server got itself in trouble'],
    [403, {}, 'gpu1 POST /prompt: HTTP 403 forbidden: ComfyUI rejects requests whose Origin'],
    [413, { text: 'Request Entity Too Large' }, 'gpu1 POST /prompt: HTTP 413: request body too large'],
    [404, { text: '404: Not Found' }, 'gpu1 POST /prompt: HTTP 404 not found: 404: Not Found'],
  ])('explains HTTP %i', async (status, reply, message) => {
    h.stub.route('POST', '/api/prompt', () => ({ status, ...reply }));
    const err = await http().postPrompt({ prompt: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ComfyHttpError);
    expect((err as ComfyHttpError).status).toBe(status);
    expect((err as Error).message).toContain(message);
  });

  it('rejects a 200 that is not a prompt answer', async () => {
    h.stub.route('POST', '/api/prompt', () => ({ text: 'hello' }));
    await expect(http().postPrompt({ prompt: {} })).rejects.toThrow(ComfyProtocolError);
  });
});

describe('connection failures', () => {
  it('says "cannot reach" with ECONNREFUSED when nothing listens', async () => {
    const gone = await StubServer.start();
    const url = gone.url;
    await gone.close();
    const err = await new ComfyHttp({ name: 'gpu1', url }).queue().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ComfyConnectionError);
    expect((err as Error).message).toBe(`gpu1 GET /api/system_stats: cannot reach ComfyUI at ${url}: ECONNREFUSED`);
  });

  it('times out a request that never gets an answer', async () => {
    h.stub.route('GET', '/api/queue', () => ({ hang: true }));
    const err = await http({ requestTimeoutMs: 50 }).queue().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ComfyConnectionError);
    expect((err as Error).message).toContain('GET /queue: cannot reach ComfyUI');
    expect((err as ComfyConnectionError).code).toBe('timed out after 50 ms');
  });
});

describe('Comfy Cloud', () => {
  it('sends X-API-Key under /api and follows /view redirects without the key', async () => {
    const signed = await StubServer.start();
    try {
      signed.route('GET', '/signed/abc', () => ({ bytes: Buffer.from('PNGDATA'), headers: { 'content-type': 'image/png' } }));
      h.stub.route('GET', '/api/view', () => ({ status: 302, headers: { location: `${signed.url}/signed/abc?sig=1` } }));
      h.stub.route('GET', '/api/job/p1/status', () => ({ json: { id: 'p1', status: 'success' } }));
      const api = http({ apiKey: 'secret-key' });
      expect(await api.view({ filename: 'a.png', subfolder: '', type: 'output' })).toEqual({ bytes: Buffer.from('PNGDATA'), contentType: 'image/png' });
      expect(h.stub.requestsTo('GET', '/api/view')[0]?.headers['x-api-key']).toBe('secret-key');
      expect(signed.requests[0]?.headers['x-api-key']).toBeUndefined();
      const status = await api.cloudJobStatus('p1');
      expect(cloudJobPhase(status.status)).toBe('done');
      expect(h.stub.requestsTo('GET', '/api/system_stats')).toHaveLength(0); // no prefix probe on Cloud
    } finally {
      await signed.close();
    }
  });

  it('normalises the job status strings of both Cloud endpoints', () => {
    expect(['success', 'completed'].map(cloudJobPhase)).toEqual(['done', 'done']);
    expect(['error', 'failed', 'cancelled'].map(cloudJobPhase)).toEqual(['failed', 'failed', 'cancelled']);
    expect(['pending', 'executing', 'queued_limited', 'something_new'].map(cloudJobPhase)).toEqual(['running', 'running', 'running', 'running']);
  });
});
