// Every REST route of ComfyUI (local and Comfy Cloud), typed. One instance per backend.
import { randomUUID } from 'node:crypto';
import { FormData } from 'undici';
import { ComfyHttpError, ComfyProtocolError, ComfyValidationError, isPromptErrorBody } from './errors.js';
import { TopLevelKeyScanner } from './json-keys.js';
import { header, rawRequest, type BodySink, type RawResponse, type RequestBody } from './transport.js';
import type { ApiWorkflow, FileRef, NodeOutput, SubmitResult } from './types.js';

export interface ComfyHttpOptions {
  name: string;
  url: string;
  /** Comfy Cloud key: switches to the `/api` prefix and `X-API-Key` on every request. */
  apiKey?: string;
  requestTimeoutMs?: number;
}

export interface SystemStats {
  system: { comfyui_version?: string; os?: string; argv?: string[]; [key: string]: unknown };
  devices: Array<{ name: string; type: string; vram_total?: number; vram_free?: number; [key: string]: unknown }>;
}

/** `[number, prompt_id, prompt, extra_data, outputs_to_execute]` */
export type QueueItem = [number, string, ApiWorkflow, Record<string, unknown>, string[], ...unknown[]];

export interface QueueState {
  running: QueueItem[];
  /** Sorted by `number` (the server sends heap order). */
  pending: QueueItem[];
}

export interface HistoryEntry {
  prompt: QueueItem;
  outputs: Record<string, NodeOutput>;
  status?: { status_str: 'success' | 'error' | string; completed: boolean; messages: Array<[string, Record<string, unknown>]> };
  meta?: Record<string, unknown>;
}

export interface NodeInfo {
  input: { required?: Record<string, unknown>; optional?: Record<string, unknown>; hidden?: Record<string, unknown> };
  output: string[];
  name: string;
  display_name?: string;
  category?: string;
  output_node?: boolean;
  [key: string]: unknown;
}

export interface UploadResult {
  name: string;
  subfolder: string;
  type: string;
}

export interface PromptRequest {
  prompt: ApiWorkflow;
  client_id?: string;
  prompt_id?: string;
  extra_data?: Record<string, unknown>;
  front?: boolean;
  number?: number;
  partial_execution_targets?: string[];
}

export type JobStatus = 'pending' | 'in_progress' | 'completed' | 'failed' | 'cancelled';

export interface JobSummary {
  id: string;
  status: JobStatus | string;
  priority?: number;
  create_time?: number;
  [key: string]: unknown;
}

export interface JobsQuery {
  status?: JobStatus[];
  workflowId?: string;
  sortBy?: 'created_at' | 'execution_duration';
  sortOrder?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

export interface CloudJobStatus {
  id: string;
  status: string;
  error_message?: string | null;
  [key: string]: unknown;
}

/** Cloud status strings, normalised: the endpoint returns both documented and raw internal values. */
export function cloudJobPhase(status: string): 'done' | 'failed' | 'cancelled' | 'running' {
  if (status === 'success' || status === 'completed') return 'done';
  if (status === 'error' || status === 'failed') return 'failed';
  if (status === 'cancelled') return 'cancelled';
  return 'running';
}

type Expect = 'json' | 'empty' | 'bytes';

export interface ViewResult {
  bytes: Buffer;
  contentType: string | undefined;
}

export class ComfyHttp {
  readonly name: string;
  readonly baseUrl: string;
  readonly cloud: boolean;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number;
  private prefix: Promise<string> | undefined;

  constructor(options: ComfyHttpOptions) {
    this.name = options.name;
    this.baseUrl = options.url.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.cloud = options.apiKey !== undefined;
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  // ---- routes -------------------------------------------------------------------------------------------

  systemStats(): Promise<SystemStats> {
    return this.json('GET', '/system_stats');
  }

  /** Server feature flags; `{}` on servers older than 0.3.45 (no route). */
  async features(): Promise<Record<string, unknown>> {
    try {
      return await this.json('GET', '/features');
    } catch (err) {
      if (err instanceof ComfyHttpError && err.status === 404) return {};
      throw err;
    }
  }

  async queueRemaining(): Promise<number> {
    const body = await this.json<{ exec_info?: { queue_remaining?: number } }>('GET', '/prompt');
    return body.exec_info?.queue_remaining ?? 0;
  }

  /** `POST /prompt`. A 400 becomes ComfyValidationError; `workflow` titles are used in its messages. */
  async postPrompt(body: PromptRequest): Promise<SubmitResult> {
    const route = 'POST /prompt';
    const res = await this.send('POST', '/prompt', { json: body });
    if (res.status === 400) {
      const parsed = tryJson(res.bytes);
      if (isPromptErrorBody(parsed)) throw new ComfyValidationError(this.place(route), parsed, body.prompt);
    }
    const answer = this.check(route, res, 'json') as { prompt_id?: unknown; number?: unknown; node_errors?: unknown };
    if (typeof answer.prompt_id !== 'string' || typeof answer.number !== 'number') {
      throw new ComfyProtocolError(this.place(route), 'answer lacks prompt_id or number');
    }
    return {
      promptId: answer.prompt_id,
      number: answer.number,
      nodeErrors: (answer.node_errors ?? {}) as SubmitResult['nodeErrors'],
    };
  }

  history(options: { maxItems?: number; offset?: number } = {}): Promise<Record<string, HistoryEntry>> {
    return this.json('GET', withQuery('/history', { max_items: options.maxItems, offset: options.offset }));
  }

  /** One history entry; undefined while queued, running, or unknown (the server cannot tell them apart). */
  async historyEntry(promptId: string): Promise<HistoryEntry | undefined> {
    const all = await this.json<Record<string, HistoryEntry>>('GET', `/history/${encodeURIComponent(promptId)}`);
    return all[promptId];
  }

  deleteHistory(promptIds: string[]): Promise<void> {
    return this.empty('POST', '/history', { json: { delete: promptIds } });
  }

  clearHistory(): Promise<void> {
    return this.empty('POST', '/history', { json: { clear: true } });
  }

  async queue(): Promise<QueueState> {
    const body = await this.json<{ queue_running?: QueueItem[]; queue_pending?: QueueItem[] }>('GET', '/queue');
    const pending = [...(body.queue_pending ?? [])].sort((a, b) => a[0] - b[0]);
    return { running: body.queue_running ?? [], pending };
  }

  deleteFromQueue(promptIds: string[]): Promise<void> {
    return this.empty('POST', '/queue', { json: { delete: promptIds } });
  }

  clearQueue(): Promise<void> {
    return this.empty('POST', '/queue', { json: { clear: true } });
  }

  /**
   * Targeted interrupt. Deliberately requires a prompt id: a bare interrupt stops whatever runs, including
   * other users' jobs. Servers before 0.3.57 ignore the id — the caller must check first (see client.cancel).
   */
  interrupt(promptId: string): Promise<void> {
    return this.empty('POST', '/interrupt', { json: { prompt_id: promptId } });
  }

  free(options: { unloadModels?: boolean; freeMemory?: boolean }): Promise<void> {
    return this.empty('POST', '/free', { json: { unload_models: options.unloadModels ?? false, free_memory: options.freeMemory ?? false } });
  }

  objectInfo(): Promise<Record<string, NodeInfo>> {
    return this.json('GET', '/object_info');
  }

  /** The names of the server's node classes: /object_info's keys, without building its megabytes of definitions. */
  async nodeClassNames(): Promise<string[]> {
    const route = 'GET /object_info';
    const scanner = new TopLevelKeyScanner();
    this.check(route, await this.send('GET', '/object_info', undefined, false, scanner), 'empty');
    const names = scanner.end();
    if (names === undefined) throw new ComfyProtocolError(this.place(route), `expected a JSON object, got: ${scanner.head}`);
    return names;
  }

  /** Undefined for an unknown class (the server answers 200 `{}`). */
  async objectInfoFor(classType: string): Promise<NodeInfo | undefined> {
    const body = await this.json<Record<string, NodeInfo>>('GET', `/object_info/${encodeURIComponent(classType)}`);
    return body[classType];
  }

  modelFolders(): Promise<string[]> {
    return this.json('GET', '/models');
  }

  /** Files of a model folder; an unknown folder is a ComfyHttpError 404 that says so. */
  async models(folder: string): Promise<string[]> {
    const route = `/models/${encodeURIComponent(folder)}`;
    const res = await this.send('GET', route);
    if (res.status === 404) {
      throw new ComfyHttpError(this.place(`GET ${route}`), 404, '', `HTTP 404: there is no model folder "${folder}"`);
    }
    return this.check(`GET ${route}`, res, 'json') as string[];
  }

  embeddings(): Promise<string[]> {
    return this.json('GET', '/embeddings');
  }

  /**
   * Downloads a file. On Cloud the server answers 302 to a signed URL on another host; that URL is fetched
   * without our key so the key never leaves for a third party.
   */
  async view(ref: Pick<FileRef, 'filename' | 'subfolder' | 'type'>, options: { preview?: string; channel?: string } = {}): Promise<ViewResult> {
    const path = withQuery('/view', {
      filename: ref.filename,
      subfolder: ref.subfolder,
      type: ref.type,
      preview: options.preview,
      channel: options.channel,
    });
    const route = `GET /view`;
    const res = await this.send('GET', path);
    if (res.status >= 300 && res.status < 400) {
      const location = header(res.headers, 'location');
      if (!location) throw new ComfyProtocolError(this.place(route), `HTTP ${res.status} without a Location`);
      const target = new URL(location, this.baseUrl).toString();
      const signed = await this.raw('GET', target, undefined, {}, route);
      return { bytes: this.check(route, signed, 'bytes') as Buffer, contentType: header(signed.headers, 'content-type') };
    }
    return { bytes: this.check(route, res, 'bytes') as Buffer, contentType: header(res.headers, 'content-type') };
  }

  /**
   * `POST /upload/image` (or `/upload/mask` with `originalRef`). The name gets a random prefix so that
   * concurrent uploads of equally named files can never collide (the server's check-then-write is not atomic).
   */
  async upload(
    bytes: Buffer,
    filename: string,
    options: { kind?: 'image' | 'mask'; subfolder?: string; overwrite?: boolean; originalRef?: Pick<FileRef, 'filename' | 'subfolder' | 'type'>; type?: 'input' | 'temp' | 'output' } = {},
  ): Promise<UploadResult> {
    const kind = options.kind ?? 'image';
    if (kind === 'mask' && !options.originalRef) {
      throw new ComfyProtocolError(this.place('POST /upload/mask'), 'a mask upload needs originalRef (the image it masks)');
    }
    const form = new FormData();
    const base = filename.split(/[\\/]/).pop() || 'upload.png';
    form.append('image', new Blob([new Uint8Array(bytes)]), `${randomUUID().slice(0, 8)}-${base}`);
    form.append('type', options.type ?? 'input');
    if (options.subfolder) form.append('subfolder', options.subfolder);
    if (options.overwrite) form.append('overwrite', 'true');
    if (options.originalRef) form.append('original_ref', JSON.stringify(options.originalRef));
    const answer = await this.json<Partial<UploadResult>>('POST', `/upload/${kind}`, { form });
    if (typeof answer.name !== 'string') throw new ComfyProtocolError(this.place(`POST /upload/${kind}`), 'answer lacks "name"');
    return { name: answer.name, subfolder: answer.subfolder ?? '', type: answer.type ?? 'input' };
  }

  // ---- jobs API (newer servers; `/api/jobs` only — never at a bare path) ------------------------------

  jobs(query: JobsQuery = {}): Promise<{ jobs: JobSummary[]; pagination: Record<string, unknown> }> {
    return this.json(
      'GET',
      withQuery('/jobs', {
        status: query.status?.join(','),
        workflow_id: query.workflowId,
        sort_by: query.sortBy,
        sort_order: query.sortOrder,
        limit: query.limit,
        offset: query.offset,
      }),
      undefined,
      true,
    );
  }

  /** Undefined when the server does not know the job. */
  async job(jobId: string): Promise<JobSummary | undefined> {
    try {
      return await this.json<JobSummary>('GET', `/jobs/${encodeURIComponent(jobId)}`, undefined, true);
    } catch (err) {
      if (err instanceof ComfyHttpError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** Atomic cancel (dequeue or interrupt-if-running). `false` when the job was already finished or unknown. */
  async cancelJob(jobId: string): Promise<boolean> {
    const body = await this.json<{ cancelled?: boolean }>('POST', `/jobs/${encodeURIComponent(jobId)}/cancel`, { json: {} }, true);
    return body.cancelled === true;
  }

  async cancelJobs(jobIds: string[]): Promise<boolean> {
    const body = await this.json<{ cancelled?: boolean }>('POST', '/jobs/cancel', { json: { job_ids: jobIds } }, true);
    return body.cancelled === true;
  }

  /** Comfy Cloud: `/api/job/{id}/status`. */
  cloudJobStatus(jobId: string): Promise<CloudJobStatus> {
    return this.json('GET', `/job/${encodeURIComponent(jobId)}/status`, undefined, true);
  }

  // ---- ComfyUI-Manager ----------------------------------------------------------------------------------

  managerInstall(gitUrl: string): Promise<unknown> {
    return this.manager('POST', '/manager/queue/install', { json: { git_url: gitUrl } });
  }

  managerStatus(): Promise<Record<string, unknown>> {
    return this.manager('GET', '/manager/queue/status') as Promise<Record<string, unknown>>;
  }

  managerInstallModel(model: { url: string; path: string; filename: string }): Promise<unknown> {
    return this.manager('POST', '/manager/queue/install_model', { json: model });
  }

  private async manager(method: string, path: string, body?: RequestBody): Promise<unknown> {
    const res = await this.send(method, path, body);
    if (res.status === 404) {
      throw new ComfyHttpError(this.place(`${method} ${path}`), 404, '', `ComfyUI-Manager is not installed on ${this.name}`);
    }
    return this.check(`${method} ${path}`, res, res.bytes.length === 0 ? 'empty' : 'json');
  }

  // ---- plumbing -------------------------------------------------------------------------------------------

  /**
   * The path prefix: Cloud and every local server since mid-2024 answer under `/api`; only servers whose
   * `/api/system_stats` is 404 fall back to bare paths. Probed once, lazily.
   */
  private pathPrefix(): Promise<string> {
    if (this.cloud) return Promise.resolve('/api');
    this.prefix ??= this.raw('GET', `${this.baseUrl}/api/system_stats`, undefined, this.authHeaders(), 'GET /api/system_stats').then(
      (res) => (res.status === 404 ? '' : '/api'),
      (err: unknown) => {
        this.prefix = undefined; // retry the probe next time: the server may just be down
        throw err;
      },
    );
    return this.prefix;
  }

  private place(route: string) {
    return { backend: this.name, route };
  }

  private authHeaders(): Record<string, string> {
    return this.apiKey ? { 'x-api-key': this.apiKey } : {};
  }

  private async json<T>(method: string, path: string, body?: RequestBody, apiOnly = false): Promise<T> {
    const res = await this.send(method, path, body, apiOnly);
    return this.check(`${method} ${path.split('?')[0]}`, res, 'json') as T;
  }

  private async empty(method: string, path: string, body?: RequestBody): Promise<void> {
    const res = await this.send(method, path, body);
    this.check(`${method} ${path}`, res, 'empty');
  }

  private async send(method: string, path: string, body?: RequestBody, apiOnly = false, sink?: BodySink): Promise<RawResponse> {
    const prefix = apiOnly ? '/api' : await this.pathPrefix();
    return this.raw(method, `${this.baseUrl}${prefix}${path}`, body, this.authHeaders(), `${method} ${path.split('?')[0]}`, sink);
  }

  private raw(method: string, url: string, body: RequestBody, headers: Record<string, string>, route: string, sink?: BodySink): Promise<RawResponse> {
    return rawRequest({ method, url, body, headers, timeoutMs: this.timeoutMs, place: this.place(route), baseUrl: this.baseUrl, ...(sink ? { sink } : {}) });
  }

  private check(route: string, res: RawResponse, expect: Expect): unknown {
    if (res.status < 200 || res.status >= 300) {
      throw new ComfyHttpError(this.place(route), res.status, res.bytes.toString('utf8'));
    }
    if (expect === 'bytes') return res.bytes;
    if (expect === 'empty') return undefined;
    const parsed = tryJson(res.bytes);
    if (parsed === undefined) {
      throw new ComfyProtocolError(this.place(route), `expected JSON, got: ${res.bytes.toString('utf8').slice(0, 120)}`);
    }
    return parsed;
  }
}

export function tryJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function withQuery(path: string, query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}
