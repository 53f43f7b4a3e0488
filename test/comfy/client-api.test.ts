// Capabilities, cancel, submit options, downloads and the socket URL of ComfyClient, against the stub server.
import { describe, expect, it } from 'vitest';
import { versionAtLeast } from '../../src/comfy/client.js';
import { useHarness } from './harness.js';

const h = useHarness();

interface Server {
  version: string;
  jobs?: boolean;
  running: string[];
  pending: string[];
}

function serve(server: Server) {
  h.stub.route('GET', '/api/system_stats', () => ({ json: { system: { comfyui_version: server.version }, devices: [] } }));
  h.stub.route('GET', '/api/features', () => ({ json: { supports_preview_metadata: true } }));
  h.stub.route('GET', '/api/jobs', () => (server.jobs ? { json: { jobs: [], pagination: {} } } : { status: 404 }));
  h.stub.route('GET', '/api/queue', () => ({
    json: { queue_running: server.running.map((p) => [1, p, {}, {}, []]), queue_pending: server.pending.map((p, i) => [i + 2, p, {}, {}, []]) },
  }));
  h.stub.route('POST', '/api/queue', (req) => {
    const ids = (req.json() as { delete: string[] }).delete;
    server.pending = server.pending.filter((p) => !ids.includes(p));
    return {};
  });
  h.stub.route('POST', '/api/interrupt', () => ({}));
  let n = 0;
  h.stub.route('POST', '/api/prompt', (req) => ({ json: { prompt_id: (req.json() as { prompt_id: string }).prompt_id, number: ++n, node_errors: {} } }));
}

describe('capabilities', () => {
  it('reads version, flags, jobs API and derives targeted interrupt', async () => {
    serve({ version: '0.3.64', running: [], pending: [] });
    expect(await h.client().capabilities()).toEqual({
      version: '0.3.64',
      featureFlags: { supports_preview_metadata: true },
      targetedInterrupt: true,
      clientPromptId: true,
      jobsApi: false,
      cloud: false,
    });
  });

  it('compares versions numerically', () => {
    expect(versionAtLeast('0.3.57', '0.3.57')).toBe(true);
    expect(versionAtLeast('0.3.100', '0.3.57')).toBe(true);
    expect(versionAtLeast('0.3.9', '0.3.57')).toBe(false);
    expect(versionAtLeast(undefined, '0.3.57')).toBe(false);
  });
});

describe('cancel', () => {
  it('dequeues a pending prompt, confirms it left the queue, and ends its run with interrupted', async () => {
    const server: Server = { version: '0.3.64', running: ['other'], pending: [] };
    serve(server);
    const { c } = await h.connected();
    const run = await c.submit(h.workflow);
    server.pending.push(run.promptId);
    // ComfyUI answers {} for a prompt it has no history of.
    h.stub.route('GET', `/api/history/${run.promptId}`, () => ({ json: {} }));
    expect(await c.cancel(run.promptId)).toBe('dequeued');
    expect(h.stub.requestsTo('POST', '/api/queue')[0]?.json()).toEqual({ delete: [run.promptId] });
    expect(h.stub.requestsTo('POST', '/api/interrupt')).toHaveLength(0);
    await expect(run.finished).resolves.toEqual({ type: 'interrupted', promptId: run.promptId });
  });

  it('does not call a prompt that finished between the two /queue reads dequeued: it ends done, with its outputs', async () => {
    const server: Server = { version: '0.3.64', running: [], pending: [] };
    serve(server);
    const { c } = await h.connected();
    const run = await c.submit(h.workflow);
    server.pending.push(run.promptId);
    const outputs = { '9': { images: [{ filename: 'cached_00001_.png', subfolder: '', type: 'output' }] } };
    let history = {};
    // The delete arrives when the prompt (all cached) has already run: it is in neither list, but in history.
    h.stub.route('POST', '/api/queue', () => {
      server.pending = [];
      history = { [run.promptId]: { prompt: [2, run.promptId, {}, {}, []], outputs, status: { status_str: 'success', completed: true, messages: [] } } };
      return {};
    });
    h.stub.route('GET', `/api/history/${run.promptId}`, () => ({ json: history }));
    expect(await c.cancel(run.promptId)).toBe('not-found');
    await expect(run.finished).resolves.toEqual({ type: 'done', promptId: run.promptId, outputs });
  });

  it('interrupts a running prompt by id on a server that supports it', async () => {
    const server: Server = { version: '0.3.64', running: [], pending: [] };
    serve(server);
    const { c, socket } = await h.connected();
    const run = await c.submit(h.workflow);
    server.running.push(run.promptId);
    expect(await c.cancel(run.promptId)).toBe('interrupted');
    expect(h.stub.requestsTo('POST', '/api/interrupt')[0]?.json()).toEqual({ prompt_id: run.promptId });
    socket.sendJson({ type: 'execution_interrupted', data: { prompt_id: run.promptId, node_id: '1', node_type: 'X', executed: [] } });
    await expect(run.finished).resolves.toEqual({ type: 'interrupted', promptId: run.promptId });
  });

  it('on an old server interrupts only when /queue shows our prompt running, never someone else', async () => {
    const server: Server = { version: '0.3.40', running: ['someone-else'], pending: [] };
    serve(server);
    const c = h.client();
    expect(await c.cancel('mine')).toBe('not-found');
    expect(h.stub.requestsTo('POST', '/api/interrupt')).toHaveLength(0);
    server.running = ['mine'];
    expect(await c.cancel('mine')).toBe('interrupted');
    expect(h.stub.requestsTo('POST', '/api/interrupt')).toHaveLength(1);
  });

  it('uses the atomic jobs API cancel when the server has it', async () => {
    const server: Server = { version: '0.38.0', jobs: true, running: ['j1'], pending: [] };
    serve(server);
    let cancelled = true;
    h.stub.route('POST', '/api/jobs/j1/cancel', () => ({ json: { cancelled } }));
    const c = h.client();
    expect(await c.cancel('j1')).toBe('interrupted');
    cancelled = false;
    expect(await c.cancel('j1')).toBe('not-found');
    expect(h.stub.requestsTo('POST', '/api/interrupt')).toHaveLength(0);
  });
});

describe('submit options and outputs', () => {
  it('sends preview_method in extra_data, front and partial targets', async () => {
    serve({ version: '0.3.64', running: [], pending: [] });
    const { c } = await h.connected();
    await c.submit(h.workflow, { promptId: 'fixed', previewMethod: 'taesd', extraData: { a: 1 }, front: true, partialExecutionTargets: ['3'] });
    expect(h.stub.requestsTo('POST', '/api/prompt')[0]?.json()).toEqual({
      prompt: h.workflow,
      client_id: 'client-1',
      prompt_id: 'fixed',
      extra_data: { a: 1, preview_method: 'taesd' },
      front: true,
      partial_execution_targets: ['3'],
    });
  });

  it('downloads every output file with its sniffed mime type', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2]);
    h.stub.route('GET', '/api/view', (req) => ({ bytes: req.query.get('filename') === 'a.png' ? png : Buffer.from('fLaC...'), headers: { 'content-type': 'application/octet-stream' } }));
    const files = await h.client().downloadOutputs({
      '9': { images: [{ filename: 'a.png', subfolder: '', type: 'output' }] },
      '12': { audio: [{ filename: 'b.flac', subfolder: '', type: 'temp' }], text: ['hi'] },
    });
    expect(files.map((f) => [f.node, f.kind, f.mime, f.bytes.length])).toEqual([
      ['9', 'images', 'image/png', 10],
      ['12', 'audio', 'audio/flac', 7],
      ['12', 'text', 'text/plain', 2],
    ]);
  });

  it('says when HTTP answers but the WebSocket cannot open', async () => {
    const c = h.client({ url: `${h.stub.url}/sub` }); // the stub upgrades only /ws and /api/ws
    h.stub.route('GET', '/sub/api/system_stats', () => ({ json: { system: {}, devices: [] } }));
    await expect(c.connect()).rejects.toThrow('gpu1 GET /ws: cannot reach ComfyUI at');
    expect(c.connected).toBe(false);
  });

  it('offers ComfyUI no compression: its frames are tiny JSON or already-compressed previews', async () => {
    const { socket } = await h.connected();
    expect(socket.ws.extensions).toBe('');
  });

  it('puts the Cloud key on the WebSocket URL as token', async () => {
    const { socket } = await h.connected({ apiKey: 'k1' });
    expect(socket.url.searchParams.get('token')).toBe('k1');
    expect(socket.url.searchParams.get('clientId')).toBe('client-1');
  });
});
