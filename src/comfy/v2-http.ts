// Every route of the Comfy API v2 (Comfy Cloud, Comfy API deployments, the self-hosted comfy-api-proxy),
// typed. Bearer auth goes to this origin only: a 302 to a signed URL is followed without it.
import { FormData, request } from 'undici';
import type { Dispatcher } from 'undici';
import { ComfyConnectionError, ComfyProtocolError, ComfyV2Error } from './errors.js';
import { tryJson } from './http.js';
import { errorCode, header, rawRequest, type RawResponse } from './transport.js';
import { isObject } from './messages.js';
import type { ApiWorkflow } from './types.js';

export type V2Status = 'queued' | 'running' | 'succeeded' | 'canceling' | 'canceled' | 'failed' | 'expired';

export interface V2Progress {
  value: number;
  nodes_done: number;
  nodes_total: number;
  current_node?: string | null;
  current_node_class?: string | null;
  step?: number | null;
  steps?: number | null;
  message?: string | null;
}

export interface V2Output {
  node_id: string;
  name: string;
  type: 'image' | 'video' | 'audio' | 'text' | 'file' | 'latent' | string;
  content_type: string;
  size_bytes: number;
  id: string;
  hash: string | null;
  url: string;
  url_expires_at: string;
  job_id?: string;
}

export interface V2JobError {
  code: string;
  message: string;
  node_id?: string | null;
  class_type?: string | null;
  traceback?: string | null;
}

export interface V2Job {
  id: string;
  status: V2Status;
  queue_position: number | null;
  progress: V2Progress | null;
  outputs: V2Output[];
  error: V2JobError | null;
  urls: { self: string; events: string; cancel: string };
  /** Proxy-only: echoed from the submit body; comfycord puts its idempotency key there to find the job again. */
  metadata?: string;
  [key: string]: unknown;
}

export interface V2Asset {
  id: string;
  hash: string | null;
  size_bytes: number;
  content_type: string;
  url: string;
  url_expires_at: string;
  file_path?: string;
  created_new?: boolean;
}

export interface V2HttpOptions {
  name: string;
  url: string;
  apiKey?: string;
  requestTimeoutMs?: number;
}


type Body = { json: unknown; key?: string } | { form: FormData; key?: string } | undefined;

export class V2Http {
  readonly name: string;
  readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number;

  constructor(options: V2HttpOptions) {
    this.name = options.name;
    this.baseUrl = options.url.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  /** The proxy's health route; false where the server has none (Cloud, deployments). */
  async health(): Promise<boolean> {
    const res = await this.send('GET', '/api/v2/health');
    return res.status === 200;
  }

  async submit(workflow: ApiWorkflow, idempotencyKey: string, metadata?: string): Promise<V2Job> {
    const body = { workflow, ...(metadata !== undefined ? { metadata } : {}) };
    return this.job201(await this.send('POST', '/api/v2/jobs', { json: body, key: idempotencyKey }), 'POST /api/v2/jobs');
  }

  /** Undefined for 404 (unknown, not ours, or past retention: the server cannot say which). */
  async job(id: string): Promise<V2Job | undefined> {
    const route = 'GET /api/v2/jobs/{id}';
    const res = await this.send('GET', `/api/v2/jobs/${encodeURIComponent(id)}`);
    if (res.status === 404) return undefined;
    return asJob(this.check(route, res), this.place(route));
  }

  /** The proxy's job list; undefined where the server has none (the contract does not define it). */
  async jobs(limit = 100): Promise<V2Job[] | undefined> {
    const route = 'GET /api/v2/jobs';
    const res = await this.send('GET', `/api/v2/jobs?limit=${limit}`);
    if (res.status === 404 || res.status === 405) return undefined;
    const body = this.check(route, res);
    if (!isObject(body) || !Array.isArray(body.jobs)) throw new ComfyProtocolError(this.place(route), 'answer lacks "jobs"');
    return body.jobs.map((job) => asJob(job, this.place(route)));
  }

  async cancel(id: string): Promise<V2Job> {
    const route = 'POST /api/v2/jobs/{id}/cancel';
    return asJob(this.check(route, await this.send('POST', `/api/v2/jobs/${encodeURIComponent(id)}/cancel`, { json: {} })), this.place(route));
  }

  /** Opens the SSE stream; the caller reads (and must eventually cancel) the body. */
  async events(id: string, signal: AbortSignal): Promise<AsyncIterable<Uint8Array>> {
    const route = 'GET /api/v2/jobs/{id}/events';
    const url = `${this.baseUrl}/api/v2/jobs/${encodeURIComponent(id)}/events`;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, { method: 'GET', headers: { ...this.auth(), accept: 'text/event-stream' }, signal });
    } catch (err) {
      throw new ComfyConnectionError(this.place(route), this.baseUrl, errorCode(err, this.timeoutMs), err);
    }
    if (res.statusCode !== 200) {
      const bytes = Buffer.from(await res.body.arrayBuffer());
      this.check(route, { status: res.statusCode, headers: res.headers, bytes });
    }
    return res.body;
  }

  async uploadAsset(bytes: Buffer, filePath: string, contentType: string, idempotencyKey: string): Promise<V2Asset> {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(bytes)], { type: contentType }), filePath.split('/').pop() ?? filePath);
    form.append('content_type', contentType);
    form.append('file_path', filePath);
    // The spec names the field `tags[]`; the proxy reads `tags`. Both are sent so either server tags it.
    form.append('tags', 'input');
    form.append('tags[]', 'input');
    const route = 'POST /api/v2/assets';
    return asAsset(this.check(route, await this.send('POST', '/api/v2/assets', { form, key: idempotencyKey })), this.place(route));
  }

  /** `HEAD by-hash`: may this caller mint an asset from these bytes without sending them? */
  async hasBlob(hash: string): Promise<boolean> {
    const res = await this.send('HEAD', `/api/v2/assets/by-hash/${encodeURIComponent(hash)}`);
    if (res.status === 404) return false;
    this.check('HEAD /api/v2/assets/by-hash/{hash}', res, false);
    return true;
  }

  /** Undefined on 404 `blob_not_found` (a miss and "not yours" look the same). */
  async assetFromHash(hash: string, filePath: string): Promise<V2Asset | undefined> {
    const route = 'POST /api/v2/assets/from-hash';
    const res = await this.send('POST', '/api/v2/assets/from-hash', { json: { hash, file_path: filePath, tags: ['input'] } });
    if (res.status === 404) return undefined;
    return asAsset(this.check(route, res), this.place(route));
  }

  /**
   * Downloads a URL the server handed out (an Output or Asset `url`). Bearer goes only to this server's origin;
   * a redirect (Cloud: 302 to a signed URL) is followed once without it. Undefined when the URL no longer works
   * (404/403/410: expired or minted before a proxy restart), so the caller can refresh it.
   */
  async download(url: string): Promise<{ bytes: Buffer; contentType: string | undefined } | undefined> {
    const route = 'GET output content';
    const target = new URL(url, this.baseUrl);
    const own = target.origin === new URL(this.baseUrl).origin;
    let res = await this.raw('GET', target.toString(), undefined, own ? this.auth() : {}, route);
    if (res.status >= 300 && res.status < 400) {
      const location = header(res.headers, 'location');
      if (!location) throw new ComfyProtocolError(this.place(route), `HTTP ${res.status} without a Location`);
      res = await this.raw('GET', new URL(location, target).toString(), undefined, {}, route);
    }
    if (res.status === 404 || res.status === 403 || res.status === 410) return undefined;
    if (res.status !== 200) this.check(route, res, false);
    return { bytes: res.bytes, contentType: header(res.headers, 'content-type') };
  }

  // ---- plumbing -------------------------------------------------------------------------------------------

  private place(route: string) {
    return { backend: this.name, route };
  }

  private auth(): Record<string, string> {
    return this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
  }

  private job201(res: RawResponse, route: string): V2Job {
    return asJob(this.check(route, res), this.place(route));
  }

  private send(method: string, path: string, body?: Body): Promise<RawResponse> {
    const headers = this.auth();
    if (body?.key !== undefined) headers['idempotency-key'] = body.key;
    return this.raw(method, `${this.baseUrl}${path}`, body, headers, `${method} ${path.split('?')[0]}`);
  }

  private raw(method: string, url: string, body: Body, headers: Record<string, string>, route: string): Promise<RawResponse> {
    return rawRequest({ method, url, body, headers, timeoutMs: this.timeoutMs, place: this.place(route), baseUrl: this.baseUrl });
  }


  /** 2xx → the parsed JSON (or nothing); otherwise the envelope as a ComfyV2Error. */
  private check(route: string, res: RawResponse, parse = true): unknown {
    if (res.status < 200 || res.status >= 300) {
      const parsed = tryJson(res.bytes);
      const error = isObject(parsed) && isObject(parsed.error) ? parsed.error : {};
      const code = typeof error.code === 'string' ? error.code : `http_${res.status}`;
      const message = typeof error.message === 'string' ? error.message : res.bytes.toString('utf8').slice(0, 200);
      const retry = Number(header(res.headers, 'retry-after'));
      throw new ComfyV2Error(this.place(route), res.status, code, message, error.details ?? null, Number.isFinite(retry) ? retry * 1000 : undefined);
    }
    if (!parse) return undefined;
    const parsed = tryJson(res.bytes);
    if (parsed === undefined) throw new ComfyProtocolError(this.place(route), `expected JSON, got: ${res.bytes.toString('utf8').slice(0, 120)}`);
    return parsed;
  }
}

function asJob(value: unknown, place: { backend: string; route: string }): V2Job {
  if (!isObject(value) || typeof value.id !== 'string' || typeof value.status !== 'string') {
    throw new ComfyProtocolError(place, 'answer is not a Job (no id or status)');
  }
  return { ...value, outputs: Array.isArray(value.outputs) ? value.outputs : [], error: value.error ?? null, progress: value.progress ?? null, queue_position: value.queue_position ?? null } as V2Job;
}

function asAsset(value: unknown, place: { backend: string; route: string }): V2Asset {
  if (!isObject(value) || typeof value.id !== 'string') throw new ComfyProtocolError(place, 'answer is not an Asset (no id)');
  return value as unknown as V2Asset;
}
