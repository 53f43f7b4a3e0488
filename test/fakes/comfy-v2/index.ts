// A fake Comfy API v2 server on 127.0.0.1, built like comfy-api-proxy: it fronts a (fake) ComfyUI over plain
// HTTP + WebSocket (submit → POST /prompt with the job id as prompt_id and client_id, status → /history + /queue,
// upload → /upload/image, download → /view, SSE bridged from /ws). Behaviour follows
// /work/shared/comfyui/v2-transcripts (the real proxy) and, for the `cloud` profile, the contract in api-v2.md.
//
// Profiles:
// - `proxy`: no auth unless `token`; native ComfyUI `node_errors` in validation errors; cancel forwarded to
//   ComfyUI's jobs API and its answer ignored (so on 0.3.64 it does not stop anything); `GET /api/v2/jobs`
//   and `/health`; output content served directly; keys, jobs, assets and URL secret in memory (lost on restart
//   unless `stateDir`).
// - `cloud`: Bearer required; validation details in the spec's `[{field, reason}]` shape; no list, no health;
//   content answers 302 to a signed URL on another port that refuses any request carrying Authorization.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { blake3 } from '@noble/hashes/blake3.js';
import { FormData as UndiciFormData, request } from 'undici';
import { EventStream, type StreamStatus } from './stream.js';

export type FakeV2Profile = 'proxy' | 'cloud';

export interface FakeComfyV2Options {
  /** The ComfyUI it fronts (a fake ComfyUI's url). */
  upstream: string;
  profile?: FakeV2Profile;
  /** Bearer token required on /api/v2/* (always required by `cloud`; default 'cloud-key' there). */
  token?: string;
  /** Concurrent SSE streams allowed (the proxy: 8). */
  maxStreams?: number;
  keepaliveMs?: number;
  /** Keep keys, jobs and assets across `restart()` (the proxy's `--state-dir`). */
  stateDir?: boolean;
}

export interface FakeV2Request {
  method: string;
  path: string;
  authorization: string | undefined;
  idempotencyKey: string | undefined;
}

interface JobRecord {
  id: string;
  key: string | undefined;
  createdAt: string;
  metadata: string | undefined;
  workflow: Record<string, unknown>;
}

interface AssetRecord {
  id: string;
  hash: string;
  size: number;
  contentType: string;
  filePath: string;
  createdAt: string;
  /** Where ComfyUI stored it (input/). */
  comfyName: string;
  comfySubfolder: string;
}

export interface FakeComfyV2Events {
  request: [FakeV2Request];
  'stream-open': [jobId: string];
  'stream-close': [jobId: string];
  'job-created': [jobId: string];
}

export interface FakeComfyV2 {
  readonly url: string;
  readonly profile: FakeV2Profile;
  readonly requests: readonly FakeV2Request[];
  readonly events: EventEmitter<FakeComfyV2Events>;
  /** Jobs created, in order (survives nothing on restart without stateDir — like the proxy). */
  readonly jobIds: readonly string[];
  readonly openStreams: number;
  readonly faults: {
    /** The next poll of a job that is finished answers `expired` (the proxy's history/queue race), once. */
    expireNextPoll(): void;
    /** The next submit creates the job, then the connection is cut before the 201 (an ambiguous failure). */
    cutNextSubmitResponse(): void;
    /** Submits create their job but their 201 waits until the returned function is called (a client killed meanwhile never reads it). */
    holdSubmitResponses(): () => void;
    /** The next request whose path matches answers this error envelope (with `Retry-After` when given). */
    failNext(path: RegExp, status: number, code: string, message: string, retryAfter?: number): void;
    /** Close every open stream without a terminal status. */
    dropStreams(): void;
    /** Keep every open stream open but silent (no keepalive either). */
    stallStreams(): void;
    /** Every output/content URL minted so far stops working (cloud: signed URLs expire; proxy: new secret). */
    expireUrls(): void;
  };
  next<K extends keyof FakeComfyV2Events>(event: K): Promise<FakeComfyV2Events[K]>;
  /** A proxy restart on the same port; without stateDir every key, job record, asset and URL is forgotten. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EXTENSION_TYPE: Record<string, [string, string]> = {
  png: ['image', 'image/png'], jpg: ['image', 'image/jpeg'], jpeg: ['image', 'image/jpeg'], webp: ['image', 'image/webp'],
  gif: ['image', 'image/gif'], mp4: ['video', 'video/mp4'], webm: ['video', 'video/webm'], flac: ['audio', 'audio/flac'],
  wav: ['audio', 'audio/wav'], mp3: ['audio', 'audio/mpeg'], txt: ['text', 'text/plain'],
};

export async function startFakeComfyV2(options: FakeComfyV2Options): Promise<FakeComfyV2> {
  const fake = new FakeV2Server(options);
  await fake.listen();
  return fake;
}

class FakeV2Server implements FakeComfyV2 {
  readonly events = new EventEmitter<FakeComfyV2Events>();
  readonly requests: FakeV2Request[] = [];
  readonly profile: FakeV2Profile;
  private readonly upstream: string;
  private readonly token: string | undefined;
  private readonly maxStreams: number;
  private readonly keepaliveMs: number;
  private server: Server | undefined;
  private signed: Server | undefined;
  private port = 0;
  private signedPort = 0;
  private secret = randomBytes(32);
  private keys = new Set<string>();
  private jobs = new Map<string, JobRecord>();
  private assets = new Map<string, AssetRecord>();
  private readonly streams = new Map<EventStream, string>();
  private readonly lastPreview = new Map<string, { node_id: string; content_type: string; data_base64: string }>();
  private readonly failures: { path: RegExp; status: number; code: string; message: string; retryAfter?: number }[] = [];
  private expirePoll = false;
  private cutSubmit = false;
  private submitGate: Promise<void> | undefined;
  /** Signed-URL tokens that still work (cloud). */
  private signedTokens = new Map<string, { filename: string; subfolder: string; type: string }>();

  constructor(private readonly options: FakeComfyV2Options) {
    this.profile = options.profile ?? 'proxy';
    this.upstream = options.upstream.replace(/\/+$/, '');
    this.token = options.token ?? (this.profile === 'cloud' ? 'cloud-key' : undefined);
    this.maxStreams = options.maxStreams ?? 8;
    this.keepaliveMs = options.keepaliveMs ?? 15_000;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get jobIds(): readonly string[] {
    return [...this.jobs.keys()];
  }

  get openStreams(): number {
    return this.streams.size;
  }

  readonly faults: FakeComfyV2['faults'] = {
    expireNextPoll: () => void (this.expirePoll = true),
    cutNextSubmitResponse: () => void (this.cutSubmit = true),
    holdSubmitResponses: () => {
      let release!: () => void;
      this.submitGate = new Promise<void>((resolve) => (release = resolve));
      return () => {
        this.submitGate = undefined;
        release();
      };
    },
    failNext: (path, status, code, message, retryAfter) => void this.failures.push({ path, status, code, message, ...(retryAfter !== undefined ? { retryAfter } : {}) }),
    dropStreams: () => {
      for (const stream of [...this.streams.keys()]) stream.drop();
    },
    stallStreams: () => {
      for (const stream of this.streams.keys()) stream.stall();
    },
    expireUrls: () => {
      this.secret = randomBytes(32);
      this.signedTokens.clear();
    },
  };

  next<K extends keyof FakeComfyV2Events>(event: K): Promise<FakeComfyV2Events[K]> {
    return new Promise((resolve) => (this.events as EventEmitter).once(event, (...args: unknown[]) => resolve(args as FakeComfyV2Events[K])));
  }

  async listen(): Promise<void> {
    if (this.profile === 'cloud' && !this.signed) {
      this.signed = createServer((req, res) => void this.serveSigned(req, res));
      await new Promise<void>((resolve) => this.signed!.listen(this.signedPort, '127.0.0.1', resolve));
      this.signedPort = (this.signed.address() as AddressInfo).port;
    }
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) envelope(res, 500, 'upstream_error', 'Upstream request failed.');
        else res.destroy(error instanceof Error ? error : undefined);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async restart(): Promise<void> {
    await this.stopMain();
    if (!this.options.stateDir) {
      this.keys = new Set();
      this.jobs = new Map();
      this.assets = new Map();
      this.secret = randomBytes(32);
    }
    await this.listen();
  }

  async close(): Promise<void> {
    await this.stopMain();
    if (this.signed) await new Promise<void>((resolve) => this.signed!.close(() => resolve()));
  }

  private async stopMain(): Promise<void> {
    for (const stream of [...this.streams.keys()]) stream.drop();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.server = undefined;
  }

  // ---- routing --------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const logged: FakeV2Request = {
      method,
      path: url.pathname,
      authorization: req.headers.authorization,
      idempotencyKey: header(req, 'idempotency-key'),
    };
    this.requests.push(logged);
    this.events.emit('request', logged);
    const body = await readAll(req);
    const path = url.pathname;
    if (!path.startsWith('/api/v2/')) return envelope(res, 404, 'not_found', 'Not found.');
    if (path === '/api/v2/health' && this.profile === 'proxy') return json(res, 200, { status: 'healthy', upstream: this.upstream });
    const origin = header(req, 'origin');
    if (origin && new URL(origin).host !== req.headers.host) {
      return envelope(res, 403, 'forbidden_origin', `Origin '${origin}' does not match request host '${req.headers.host}'.`);
    }
    if (this.token !== undefined) {
      const auth = req.headers.authorization;
      if (!auth || !/^bearer\s+\S+/i.test(auth)) return envelope(res, 401, 'unauthorized', 'Missing or malformed Authorization header.');
      if (auth.replace(/^bearer\s+/i, '') !== this.token) return envelope(res, 401, 'unauthorized', 'Invalid token.');
    }
    const failure = this.failures.findIndex((f) => f.path.test(path));
    if (failure >= 0) {
      const f = this.failures.splice(failure, 1)[0]!;
      if (f.retryAfter !== undefined) res.setHeader('retry-after', String(f.retryAfter));
      return envelope(res, f.status, f.code, f.message);
    }
    const origin_ = `http://${req.headers.host ?? `127.0.0.1:${this.port}`}`;
    let m: RegExpExecArray | null;
    if (path === '/api/v2/jobs' && method === 'POST') return this.submit(req, body, origin_, res);
    if (path === '/api/v2/jobs' && method === 'GET') {
      if (this.profile === 'cloud') return envelope(res, 404, 'not_found', 'Not found.');
      return this.list(url, origin_, res);
    }
    if ((m = /^\/api\/v2\/jobs\/([^/]+)$/.exec(path)) && method === 'GET') {
      const job = await this.view(m[1]!, origin_, true);
      return job ? json(res, 200, job) : envelope(res, 404, 'not_found', `No job ${m[1]}.`);
    }
    if ((m = /^\/api\/v2\/jobs\/([^/]+)\/events$/.exec(path)) && method === 'GET') return this.stream(m[1]!, origin_, res);
    if ((m = /^\/api\/v2\/jobs\/([^/]+)\/cancel$/.exec(path)) && method === 'POST') return this.cancel(m[1]!, origin_, res);
    if (path === '/api/v2/assets' && method === 'POST') return this.upload(req, body, origin_, res);
    if (path === '/api/v2/assets/from-hash' && method === 'POST') return this.fromHash(body, origin_, res);
    if ((m = /^\/api\/v2\/assets\/by-hash\/(.+)$/.exec(path)) && method === 'HEAD') {
      res.writeHead(this.assetByHash(decodeURIComponent(m[1]!)) ? 200 : 404, { 'content-length': 0 });
      return void res.end();
    }
    if ((m = /^\/api\/v2\/assets\/([^/]+)\/content$/.exec(path)) && method === 'GET') return this.content(m[1]!, req, res);
    if ((m = /^\/api\/v2\/assets\/([^/]+)$/.exec(path))) {
      if (method === 'GET') {
        const asset = this.assetView(m[1]!, origin_);
        return asset ? json(res, 200, asset) : envelope(res, 404, 'not_found', 'Unknown asset id.');
      }
      if (method === 'DELETE') {
        if (!this.assets.delete(m[1]!)) return envelope(res, 404, 'not_found', 'Unknown asset id.');
        res.writeHead(204);
        return void res.end();
      }
    }
    return envelope(res, 404, 'not_found', 'Not found.');
  }

  // ---- jobs ------------------------------------------------------------------------------------------------

  private async submit(req: IncomingMessage, raw: Buffer, origin: string, res: ServerResponse): Promise<void> {
    const key = header(req, 'idempotency-key');
    if (key !== undefined && (key.length === 0 || key.length > 255)) return envelope(res, 400, 'invalid_request', 'Idempotency-Key must be 1-255 characters.');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      return envelope(res, 400, 'invalid_request', 'Body must be JSON.');
    }
    if (key !== undefined && this.keys.has(key)) {
      return envelope(res, 422, 'idempotency_key_reuse', 'This Idempotency-Key has already been used. Keys are single-use; poll or list your jobs instead of resubmitting with the same key.');
    }
    if ('inputs' in body || 'webhook_url' in body) return envelope(res, 422, 'invalid_workflow', "'webhook_url' and 'inputs' are reserved and not accepted.");
    const extra = body.extra_data as Record<string, unknown> | undefined;
    if (extra && Object.keys(extra).some((k) => k !== 'api_key_comfy_org')) return envelope(res, 400, 'invalid_request', 'extra_data accepts only api_key_comfy_org.');
    const workflow = body.workflow;
    if (typeof workflow !== 'object' || workflow === null || Array.isArray(workflow)) return envelope(res, 422, 'invalid_workflow', "'workflow' must be an object.");
    const graph = workflow as Record<string, unknown>;
    if ('nodes' in graph && 'links' in graph) {
      return envelope(res, 422, 'workflow_format_ui', 'The workflow is in UI (save) format; export it in API format.');
    }
    const missing: string[] = [];
    const resolved = this.resolveAssets(graph, missing);
    if (missing.length) return envelope(res, 422, 'missing_asset', `Unresolvable core/ASSET reference(s): ${missing.join(', ')}`, { missing_ids: missing });
    if (key !== undefined) this.keys.add(key);
    const id = randomUUID();
    const upstream = await request(`${this.upstream}/prompt`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: resolved, prompt_id: id, client_id: id }),
    }).catch(() => undefined);
    if (!upstream) return envelope(res, 500, 'upstream_error', 'Upstream request failed.');
    const answer = (await upstream.body.json().catch(() => ({}))) as Record<string, unknown>;
    if (upstream.statusCode === 400) {
      // ComfyUI rejected it: no job was created, so the key is released.
      if (key !== undefined) this.keys.delete(key);
      const error = (answer.error ?? {}) as Record<string, unknown>;
      const nodeErrors = (answer.node_errors ?? {}) as Record<string, { errors?: { message?: string; details?: string; extra_info?: { input_name?: string } }[] }>;
      const details =
        this.profile === 'proxy'
          ? { node_errors: nodeErrors }
          : { node_errors: Object.fromEntries(Object.entries(nodeErrors).map(([node, e]) => [node, (e.errors ?? []).map((r) => ({ field: r.extra_info?.input_name ?? r.details ?? '', reason: r.message ?? '' }))])) };
      const message = String(error.message ?? 'Prompt outputs failed validation');
      return envelope(res, 422, 'invalid_workflow', message, details);
    }
    if (upstream.statusCode >= 300) return envelope(res, 500, 'upstream_error', 'Upstream request failed.');
    const record: JobRecord = {
      id, key, createdAt: new Date().toISOString(), metadata: typeof body.metadata === 'string' ? body.metadata : undefined, workflow: resolved,
    };
    this.jobs.set(id, record);
    this.events.emit('job-created', id);
    if (this.cutSubmit) {
      this.cutSubmit = false;
      return void res.socket?.destroy();
    }
    if (this.submitGate) await this.submitGate;
    json(res, 201, { ...this.jobShape(record, origin), status: 'queued', queue_position: null, progress: null, outputs: [], error: null });
  }

  private async list(url: URL, origin: string, res: ServerResponse): Promise<void> {
    const limit = Number(url.searchParams.get('limit') ?? 50);
    const wanted = url.searchParams.get('status');
    const views = [];
    for (const record of [...this.jobs.values()].reverse()) {
      const view = await this.view(record.id, origin, false);
      if (view && (!wanted || wanted.split(',').includes(String(view.status)))) views.push(view);
    }
    json(res, 200, { jobs: views.slice(0, limit), truncated: views.length > limit });
  }

  /** The job as a poll shows it; undefined when neither this server nor ComfyUI knows it. */
  private async view(id: string, origin: string, poll: boolean): Promise<Record<string, unknown> | undefined> {
    if (!UUID.test(id)) return undefined;
    const history = (await this.upstreamJson(`/history/${id}`)) as Record<string, HistoryEntry>;
    const entry = history[id];
    let record = this.jobs.get(id);
    const queue = entry ? undefined : ((await this.upstreamJson('/queue')) as { queue_running: unknown[][]; queue_pending: unknown[][] });
    const running = queue?.queue_running.some((item) => item[1] === id) ?? false;
    const pendingIndex = queue ? [...queue.queue_pending].sort((a, b) => Number(a[0]) - Number(b[0])).findIndex((item) => item[1] === id) : -1;
    if (!record) {
      // The proxy forgot it (restart without state) but ComfyUI still knows it: a job with a re-invented created_at.
      if (!entry && !running && pendingIndex < 0) return undefined;
      record = { id, key: undefined, createdAt: new Date().toISOString(), metadata: undefined, workflow: {} };
    }
    const shape = this.jobShape(record, origin);
    if (entry) {
      if (poll && this.expirePoll) {
        this.expirePoll = false;
        return { ...shape, status: 'expired', queue_position: null, progress: null, outputs: [], error: null };
      }
      const messages = entry.status?.messages ?? [];
      const failure = messages.find(([type]) => type === 'execution_error')?.[1];
      const interrupted = messages.some(([type]) => type === 'execution_interrupted');
      const status = entry.status?.status_str === 'success' ? 'succeeded' : interrupted ? 'canceled' : 'failed';
      const outputs = Object.entries(entry.outputs ?? {}).flatMap(([node, output]) => this.outputsOf(id, node, output, origin));
      const error = status === 'failed' && failure
        ? { code: 'node_execution_error', message: String(failure.exception_message ?? ''), node_id: failure.node_id ?? null, class_type: failure.node_type ?? null, traceback: null }
        : null;
      return { ...shape, status, queue_position: null, progress: null, outputs: status === 'canceled' ? [] : outputs, error };
    }
    if (running) return { ...shape, status: 'running', queue_position: null, progress: { value: 0.0, nodes_done: 0, nodes_total: 0 }, outputs: [], error: null };
    if (pendingIndex >= 0) return { ...shape, status: 'queued', queue_position: pendingIndex + 1, progress: null, outputs: [], error: null };
    // In neither history nor queue: the proxy's answer for a job ComfyUI lost (or one that finished between its reads).
    return { ...shape, status: 'expired', queue_position: null, progress: null, outputs: [], error: null };
  }

  private jobShape(record: JobRecord, origin: string): Record<string, unknown> {
    const self = `${origin}/api/v2/jobs/${record.id}`;
    return {
      id: record.id,
      created_at: record.createdAt,
      started_at: null,
      completed_at: null,
      expires_at: new Date(Date.parse(record.createdAt) + 86_400_000).toISOString(),
      outputs_reused: false,
      ...(record.metadata !== undefined ? { metadata: record.metadata } : {}),
      urls: { self, events: `${self}/events`, cancel: `${self}/cancel` },
    };
  }

  private outputsOf(jobId: string, node: string, output: Record<string, unknown>, origin: string): Record<string, unknown>[] {
    const files: Record<string, unknown>[] = [];
    for (const items of Object.values(output)) {
      if (!Array.isArray(items)) continue;
      for (const item of items as { filename?: string; subfolder?: string; type?: string }[]) {
        if (typeof item?.filename !== 'string') continue;
        const [kind, contentType] = EXTENSION_TYPE[item.filename.split('.').pop()!.toLowerCase()] ?? ['file', 'application/octet-stream'];
        const id = this.sign({ j: jobId, f: item.filename, s: item.subfolder ?? '', t: item.type ?? 'output' });
        files.push({
          node_id: node, name: item.filename, type: kind, content_type: contentType, size_bytes: 0, id, hash: null,
          url: `${origin}/api/v2/assets/${id}/content`, url_expires_at: new Date(Date.now() + 86_400_000).toISOString(), job_id: jobId,
        });
      }
    }
    return files;
  }

  private async stream(id: string, origin: string, res: ServerResponse): Promise<void> {
    if (!(await this.view(id, origin, false))) return envelope(res, 404, 'not_found', `No job ${id}.`);
    if (this.streams.size >= this.maxStreams) {
      res.setHeader('retry-after', '5');
      return envelope(res, 429, 'too_many_streams', 'Maximum concurrent event streams reached; poll GET /jobs/{id} instead.');
    }
    const ws = `${this.upstream.replace(/^http/, 'ws')}/ws`;
    const stream: EventStream = new EventStream(res, id, ws, this.keepaliveMs, {
      outputsOf: (node, output) => this.outputsOf(id, node, output, origin),
      poll: async () => {
        const view = await this.view(id, origin, false);
        return { status: (view?.status ?? 'expired') as StreamStatus, queue_position: (view?.queue_position ?? null) as number | null };
      },
      replayPreview: this.profile === 'cloud' ? this.lastPreview.get(id) : undefined,
      onPreview: (preview) => void this.lastPreview.set(id, preview),
      onClose: () => {
        if (this.streams.delete(stream)) this.events.emit('stream-close', id);
      },
    });
    this.streams.set(stream, id);
    await stream.open();
    // Once the bridge to ComfyUI is up and the snapshot sent: from here on no frame of the job is missed.
    this.events.emit('stream-open', id);
  }

  private async cancel(id: string, origin: string, res: ServerResponse): Promise<void> {
    const before = await this.view(id, origin, false);
    if (!before) return envelope(res, 404, 'not_found', `No job ${id}.`);
    // Forwarded to ComfyUI's jobs API; the proxy ignores the upstream status (0.3.64 answers 405).
    await request(`${this.upstream}/api/jobs/${id}/cancel`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
      .then((r) => r.body.dump())
      .catch(() => undefined);
    if (before.status === 'running') return json(res, 200, { ...before, status: 'canceling' });
    const after = await this.view(id, origin, false);
    json(res, 200, after ?? before);
  }

  // ---- assets ----------------------------------------------------------------------------------------------

  private async upload(req: IncomingMessage, raw: Buffer, origin: string, res: ServerResponse): Promise<void> {
    const key = header(req, 'idempotency-key');
    if (key !== undefined && this.keys.has(key)) return envelope(res, 422, 'idempotency_key_reuse', 'This Idempotency-Key has already been used.');
    let form: FormData;
    try {
      form = await new Request(this.url, { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body: raw }).formData();
    } catch {
      return envelope(res, 422, 'invalid_request', 'Expected multipart/form-data.');
    }
    const file = form.get('file');
    if (!(file instanceof Blob)) return envelope(res, 422, 'invalid_request', "Missing 'file' part.");
    const bytes = Buffer.from(await file.arrayBuffer());
    const hash = `blake3:${Buffer.from(blake3(bytes)).toString('hex')}`;
    const expected = form.get('expected_hash');
    if (typeof expected === 'string' && expected !== hash) return envelope(res, 409, 'hash_mismatch', 'expected_hash does not match the uploaded bytes.');
    const filePath = String(form.get('file_path') ?? (file as File).name ?? 'upload.bin');
    if (filePath.split('/').includes('..')) return envelope(res, 422, 'invalid_request', 'file_path must not contain "..".');
    if (key !== undefined) this.keys.add(key);
    const existing = this.assetByHash(hash);
    // The proxy answers a dedup hit with the same asset (original file_path), not a new one as the spec says.
    if (existing) return json(res, 200, { ...this.assetView(existing.id, origin), created_new: false });
    const parts = filePath.split('/');
    const name = parts.pop()!;
    const upload = new UndiciFormData();
    upload.append('image', new Blob([new Uint8Array(bytes)]), name);
    upload.append('type', 'input');
    if (parts.length) upload.append('subfolder', parts.join('/'));
    upload.append('overwrite', 'true');
    const answer = await request(`${this.upstream}/upload/image`, { method: 'POST', body: upload });
    const stored = (await answer.body.json()) as { name: string; subfolder: string };
    const asset: AssetRecord = {
      id: randomUUID(), hash, size: bytes.length, contentType: String(form.get('content_type') ?? file.type ?? 'application/octet-stream'),
      filePath, createdAt: new Date().toISOString(), comfyName: stored.name, comfySubfolder: stored.subfolder ?? '',
    };
    this.assets.set(asset.id, asset);
    json(res, 201, { ...this.assetView(asset.id, origin), created_new: true });
  }

  private fromHash(raw: Buffer, origin: string, res: ServerResponse): void {
    const body = JSON.parse(raw.toString('utf8') || '{}') as { hash?: string };
    const existing = body.hash ? this.assetByHash(body.hash) : undefined;
    if (!existing) return envelope(res, 404, 'blob_not_found', 'No blob the caller may mint from.');
    json(res, 200, { ...this.assetView(existing.id, origin), created_new: false });
  }

  private assetByHash(hash: string): AssetRecord | undefined {
    return [...this.assets.values()].find((a) => a.hash === hash);
  }

  private assetView(id: string, origin: string): Record<string, unknown> | undefined {
    const asset = this.assets.get(id);
    if (asset) {
      return {
        id, hash: asset.hash, size_bytes: asset.size, content_type: asset.contentType, file_path: asset.filePath, created_at: asset.createdAt,
        url: `${origin}/api/v2/assets/${id}/content`, url_expires_at: new Date(Date.now() + 86_400_000).toISOString(),
      };
    }
    const output = this.unsign(id);
    if (!output) return undefined;
    return {
      id, hash: null, size_bytes: 0, content_type: EXTENSION_TYPE[output.f.split('.').pop()!.toLowerCase()]?.[1] ?? 'application/octet-stream',
      file_path: output.f, created_at: new Date().toISOString(), url: `${origin}/api/v2/assets/${id}/content`,
      url_expires_at: new Date(Date.now() + 86_400_000).toISOString(), job_id: output.j,
    };
  }

  /** core/ASSET references → the file name ComfyUI knows (by `info.id`, else `info.hash`). */
  private resolveAssets(graph: Record<string, unknown>, missing: string[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [nodeId, node] of Object.entries(graph)) {
      const n = node as { inputs?: Record<string, unknown> };
      if (!n || typeof n !== 'object' || !n.inputs) {
        out[nodeId] = node;
        continue;
      }
      const inputs: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(n.inputs)) {
        const ref = value as { __type?: string; info?: { id?: string; hash?: string } };
        if (ref && typeof ref === 'object' && !Array.isArray(ref) && ref.__type === 'core/ASSET') {
          const asset = ref.info?.id ? this.assets.get(ref.info.id) : ref.info?.hash ? this.assetByHash(ref.info.hash) : undefined;
          if (!asset) {
            missing.push(ref.info?.id ?? ref.info?.hash ?? '(no info)');
            continue;
          }
          inputs[name] = asset.comfySubfolder ? `${asset.comfySubfolder}/${asset.comfyName}` : asset.comfyName;
        } else {
          inputs[name] = value;
        }
      }
      out[nodeId] = { ...n, inputs };
    }
    return out;
  }

  private async content(id: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const asset = this.assets.get(id);
    const output = asset ? undefined : this.unsign(id);
    if (!asset && !output) return envelope(res, 404, 'not_found', 'Unknown asset id.');
    const ref = asset
      ? { filename: asset.comfyName, subfolder: asset.comfySubfolder, type: 'input' }
      : { filename: output!.f, subfolder: output!.s, type: output!.t };
    if (this.profile === 'cloud') {
      const token = randomBytes(16).toString('hex');
      this.signedTokens.set(token, ref);
      res.writeHead(302, { location: `http://127.0.0.1:${this.signedPort}/signed/${token}?X-Amz-Expires=300`, 'content-length': 0 });
      return void res.end();
    }
    await this.pipeView(ref, req.headers.range, res);
  }

  private async serveSigned(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A signed URL carries its own authorisation: any other one is refused, as S3/GCS do.
    if (req.headers.authorization) {
      res.writeHead(400, { 'content-type': 'application/xml' });
      return void res.end('<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>');
    }
    const token = /^\/signed\/([0-9a-f]+)/.exec(req.url ?? '')?.[1];
    const ref = token ? this.signedTokens.get(token) : undefined;
    if (!ref) {
      res.writeHead(403, { 'content-type': 'application/xml' });
      return void res.end('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
    }
    await this.pipeView(ref, req.headers.range, res);
  }

  private async pipeView(ref: { filename: string; subfolder: string; type: string }, range: string | undefined, res: ServerResponse): Promise<void> {
    const query = new URLSearchParams(ref).toString();
    const upstream = await request(`${this.upstream}/view?${query}`);
    const bytes = Buffer.from(await upstream.body.arrayBuffer());
    if (upstream.statusCode !== 200) return envelope(res, 404, 'not_found', 'Unknown asset id.');
    const type = String(upstream.headers['content-type'] ?? 'application/octet-stream');
    const r = range ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
    if (r) {
      const start = Number(r[1]);
      const end = r[2] ? Math.min(Number(r[2]), bytes.length - 1) : bytes.length - 1;
      res.writeHead(206, { 'content-type': type, 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${bytes.length}`, 'accept-ranges': 'bytes' });
      return void res.end(bytes.subarray(start, end + 1));
    }
    res.writeHead(200, { 'content-type': type, 'content-length': bytes.length, 'accept-ranges': 'bytes' });
    res.end(bytes);
  }

  // ---- helpers ---------------------------------------------------------------------------------------------

  /** Output ids are long HMAC-signed tokens, not UUIDs; a new secret (restart) makes every old one a 404. */
  private sign(payload: { j: string; f: string; s: string; t: string }): string {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${createHmac('sha256', this.secret).update(body).digest('base64url')}`;
  }

  private unsign(id: string): { j: string; f: string; s: string; t: string } | undefined {
    const [body, tag] = id.split('.');
    if (!body || !tag || createHmac('sha256', this.secret).update(body).digest('base64url') !== tag) return undefined;
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { j: string; f: string; s: string; t: string };
  }

  private async upstreamJson(path: string): Promise<unknown> {
    const res = await request(`${this.upstream}${path}`);
    return res.body.json();
  }
}

interface HistoryEntry {
  outputs?: Record<string, Record<string, unknown>>;
  status?: { status_str: string; messages: [string, Record<string, unknown>][] };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function envelope(res: ServerResponse, status: number, code: string, message: string, details: unknown = null): void {
  json(res, status, { error: { code, message, details } });
}
