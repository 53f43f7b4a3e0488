// The HTTP surface of the fake: prefix rules per profile, the cloud key check, fault injection, then the routes.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Engine } from './engine.js';
import { handleUpload, resolveView, serveView } from './file-routes.js';
import {
  BodyTooLarge, isPlainObject, originMismatch, parseJsonBody, readBody, send500, sendEmpty, sendJson, sendText,
} from './http-util.js';
import { cancelJobs, cloudJobStatus, getJob, isCanonicalUuid, listJobs } from './jobs.js';
import { withInputFiles, type ObjectInfo } from './object-info.js';
import type { ResolvedOptions } from './options.js';
import type { Storage } from './storage.js';
import { validatePrompt } from './validate.js';

export interface LoggedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
}

export interface InjectedFailure {
  route: string | RegExp;
  status: number;
  body: string | object | undefined;
}

export interface RouteContext {
  options: ResolvedOptions;
  engine: () => Engine;
  storage: Storage;
  info: ObjectInfo;
  events: EventEmitter;
  requests: LoggedRequest[];
  failures: InjectedFailure[];
  /** cloud: where `/api/view` redirects (the "signed URL" host). */
  signedUrl: (file: string, filename: string) => string;
}

const VERSIONS = { 'v0.3.64': '0.3.64', new: '0.38.0', cloud: '0.38.0', legacy: '0.3.40' } as const;

export function serverFlags(options: ResolvedOptions): Record<string, unknown> | undefined {
  if (options.profile === 'legacy') return undefined;
  const base = { supports_preview_metadata: true, max_upload_size: options.maxBodyBytes };
  if (options.profile === 'v0.3.64') return base;
  return { ...base, supports_model_type_tags: true, extension: { manager: { supports_v4: true } }, node_replacements: true, assets: false };
}

function systemStats(options: ResolvedOptions): unknown {
  return {
    system: {
      os: options.profile === 'v0.3.64' || options.profile === 'legacy' ? 'posix' : 'linux',
      ram_total: 67_305_472_000, ram_free: 51_539_607_552,
      comfyui_version: VERSIONS[options.profile], required_frontend_version: '1.27.10', installed_templates_version: null,
      required_templates_version: '0.1.95', python_version: '3.11.7 (main) [GCC 12.2.0]', pytorch_version: '2.14.1+cu130',
      embedded_python: false,
      argv: ['main.py', '--listen', '127.0.0.1', '--port', '8188', '--preview-method', options.previewMethod],
    },
    devices: [{
      name: 'cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync', type: 'cuda', index: 0,
      vram_total: 25_756_696_576, vram_free: 23_622_320_128, torch_vram_total: 1_073_741_824, torch_vram_free: 805_306_368,
    }],
  };
}

function injectedFailure(ctx: RouteContext, pathname: string): InjectedFailure | undefined {
  const index = ctx.failures.findIndex(({ route }) =>
    typeof route === 'string' ? pathname === route || pathname === `/api${route}` : route.test(pathname));
  return index < 0 ? undefined : ctx.failures.splice(index, 1)[0];
}

function pyStr(value: unknown): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export async function handleRequest(ctx: RouteContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://fake');
  const method = req.method ?? 'GET';
  const { options } = ctx;
  ctx.events.emit('request', method, url.pathname);
  const logged: LoggedRequest = { method, path: `${url.pathname}${url.search}`, headers: req.headers };
  ctx.requests.push(logged);

  if (originMismatch(req)) return sendEmpty(res, 403);
  if (options.profile === 'cloud') {
    if (!url.pathname.startsWith('/api/')) return sendEmpty(res, 404);
    if (req.headers['x-api-key'] !== options.apiKey) {
      return sendJson(res, 401, { error: 'Unauthorized', message: 'Missing or invalid X-API-Key header' });
    }
  }

  let body: Buffer;
  try {
    body = await readBody(req, options.maxBodyBytes);
  } catch (error) {
    if (!(error instanceof BodyTooLarge)) throw error;
    res.setHeader('connection', 'close');
    return sendText(res, 413, `413 Request Entity Too Large\n\n${error.message}`);
  }
  if (body.length > 0) {
    const type = String(req.headers['content-type'] ?? '');
    logged.body = type.includes('json') ? safeJson(body) : type.startsWith('text') ? body.toString('utf8') : `<${body.length} bytes>`;
  }

  const failure = injectedFailure(ctx, url.pathname);
  if (failure) {
    if (failure.body === undefined) return failure.status === 500 ? send500(res) : sendEmpty(res, failure.status);
    return typeof failure.body === 'string' ? sendText(res, failure.status, failure.body) : sendJson(res, failure.status, failure.body);
  }

  const jobsPath = /^\/api\/jobs(?:\/(.*))?$/.exec(url.pathname);
  if (jobsPath && (options.profile === 'new' || options.profile === 'cloud')) return jobsRoute(ctx, method, jobsPath[1], body, url, res);
  const route = url.pathname.startsWith('/api/') ? url.pathname.slice(4) : url.pathname;
  try {
    await coreRoute(ctx, method, route, url.searchParams, req, body, res);
  } catch (error) {
    if (res.headersSent) throw error;
    send500(res); // what aiohttp does with a handler exception
  }
}

function safeJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return body.toString('utf8');
  }
}

function jobsRoute(ctx: RouteContext, method: string, rest: string | undefined, body: Buffer, url: URL, res: ServerResponse): void {
  const engine = ctx.engine();
  let parsed: unknown;
  try {
    parsed = parseJsonBody(body);
  } catch {
    return sendJson(res, 400, { error: 'Invalid JSON body' });
  }
  if (rest === undefined && method === 'GET') return answer(res, listJobs(engine, url.searchParams));
  if (rest === 'cancel' && method === 'POST') return answer(res, cancelJobs(engine, parsed));
  const cancel = /^([^/]+)\/cancel$/.exec(rest ?? '');
  if (cancel && method === 'POST') return sendJson(res, 200, { cancelled: engine.cancel(decodeURIComponent(cancel[1]!)) });
  if (rest && !rest.includes('/') && method === 'GET') return answer(res, getJob(engine, decodeURIComponent(rest)));
  sendEmpty(res, 404);
}

function answer(res: ServerResponse, result: { status: number; body: unknown }): void {
  sendJson(res, result.status, result.body);
}

async function coreRoute(
  ctx: RouteContext, method: string, route: string, query: URLSearchParams, req: IncomingMessage, body: Buffer, res: ServerResponse,
): Promise<void> {
  const { options, storage } = ctx;
  const engine = ctx.engine();
  const key = `${method} ${route}`;
  switch (key) {
    case 'GET /':
      return sendText(res, 200, '<!doctype html><html><body>fake ComfyUI frontend</body></html>\n', 'text/html');
    case 'GET /system_stats':
      return sendJson(res, 200, systemStats(options));
    case 'GET /features': {
      const flags = serverFlags(options);
      return flags ? sendJson(res, 200, flags) : sendEmpty(res, 404);
    }
    case 'GET /prompt':
      return sendJson(res, 200, { exec_info: { queue_remaining: engine.queueRemaining } });
    case 'POST /prompt':
      return postPrompt(ctx, body, res);
    case 'GET /object_info':
      return sendJson(res, 200, withInputFiles(ctx.info, storage.inputFiles()));
    case 'GET /queue':
      return sendJson(res, 200, {
        queue_running: engine.runningItem ? [tuple(engine.runningItem)] : [],
        queue_pending: engine.pendingItems.map(tuple),
      });
    case 'POST /queue':
    case 'POST /history': {
      const parsed = parseJsonBody(body);
      if (!isPlainObject(parsed)) return send500(res);
      const ids = Array.isArray(parsed['delete']) ? parsed['delete'].map(String) : [];
      if (route === '/queue') {
        if (parsed['clear']) engine.clearPending();
        engine.delete(ids);
      } else {
        if (parsed['clear']) engine.history.clear();
        for (const id of ids) engine.history.delete(id);
      }
      return sendEmpty(res, 200);
    }
    case 'POST /interrupt': {
      const parsed = body.length > 0 ? parseJsonBody(body) : undefined;
      const promptId = isPlainObject(parsed) && options.profile !== 'legacy' ? parsed['prompt_id'] : undefined;
      engine.interrupt(typeof promptId === 'string' ? promptId : undefined);
      return sendEmpty(res, 200);
    }
    case 'POST /free':
      return sendEmpty(res, 200);
    case 'GET /history':
      return getHistory(engine, query, undefined, res);
    case 'GET /embeddings':
      return sendJson(res, 200, (options.models['embeddings'] ?? []).map((name) => name.replace(/\.[^.]+$/, '')));
    case 'GET /extensions':
      return sendJson(res, 200, []);
    case 'GET /models':
      return sendJson(res, 200, Object.keys(options.models));
    case 'POST /upload/image':
    case 'POST /upload/mask':
      return handleUpload(storage, req.headers, body, route === '/upload/image' ? 'image' : 'mask', { cloud: options.profile === 'cloud' }, res);
    case 'GET /view': {
      const target = resolveView(storage, query);
      if (!target.ok) return sendEmpty(res, target.status);
      if (options.profile === 'cloud' && !query.has('channel')) {
        res.writeHead(302, { location: ctx.signedUrl(target.file, target.filename), 'content-length': 0 });
        return void res.end();
      }
      return serveView(target, query, res);
    }
    case 'GET /manager/queue/status':
      if (options.manager) return sendJson(res, 200, { total_count: 0, done_count: 0, in_progress_count: 0, is_processing: false });
      break;
    case 'POST /manager/queue/install':
    case 'POST /manager/queue/install_model':
      if (options.manager) return sendEmpty(res, 200);
      break;
  }
  const objectInfo = /^\/object_info\/(.+)$/.exec(route);
  if (objectInfo && method === 'GET') {
    const name = decodeURIComponent(objectInfo[1]!);
    const info = withInputFiles(ctx.info, name === 'LoadImage' ? storage.inputFiles() : []);
    return sendJson(res, 200, info[name] ? { [name]: info[name] } : {});
  }
  const models = /^\/models\/(.+)$/.exec(route);
  if (models && method === 'GET') {
    const list = options.models[decodeURIComponent(models[1]!)];
    return list ? sendJson(res, 200, list) : sendEmpty(res, 404);
  }
  const history = /^\/history\/(.+)$/.exec(route);
  if (history && method === 'GET') return getHistory(engine, query, decodeURIComponent(history[1]!), res);
  const cloudStatus = /^\/job\/([^/]+)\/status$/.exec(route);
  if (cloudStatus && method === 'GET' && options.profile === 'cloud') return answer(res, cloudJobStatus(engine, decodeURIComponent(cloudStatus[1]!)));
  sendEmpty(res, 404);
}

function tuple(item: { number: number; promptId: string; prompt: unknown; extraData: unknown; outputs: string[] }): unknown[] {
  return [item.number, item.promptId, item.prompt, item.extraData, item.outputs];
}

function getHistory(engine: Engine, query: URLSearchParams, id: string | undefined, res: ServerResponse): void {
  if (id !== undefined) {
    const entry = engine.history.get(id);
    sendJson(res, 200, entry ? { [id]: entry } : {});
  } else {
    const maxText = query.get('max_items');
    const offsetText = query.get('offset');
    if ((maxText !== null && !/^-?\d+$/.test(maxText)) || (offsetText !== null && !/^-?\d+$/.test(offsetText))) return send500(res);
    const entries = [...engine.history];
    const max = maxText === null ? undefined : Number(maxText);
    let start = offsetText === null ? 0 : Math.max(0, Number(offsetText));
    if (offsetText === null && max !== undefined) start = Math.max(0, entries.length - max);
    const slice = max === undefined ? entries.slice(start) : entries.slice(start, start + max);
    sendJson(res, 200, Object.fromEntries(slice));
  }
  engine.historyLookedUp(id);
}

async function postPrompt(ctx: RouteContext, body: Buffer, res: ServerResponse): Promise<void> {
  const { options, storage } = ctx;
  const engine = ctx.engine();
  let json: unknown;
  try {
    json = parseJsonBody(body);
  } catch {
    return send500(res);
  }
  if (!isPlainObject(json)) return send500(res);
  let number: number;
  if ('number' in json) {
    number = Number(json['number']);
    if (!Number.isFinite(number)) return send500(res);
  } else {
    number = engine.nextNumber();
    if (json['front']) number = -number;
  }
  if (!('prompt' in json)) {
    return sendJson(res, 400, { error: { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {} }, node_errors: {} });
  }
  const prompt = json['prompt'];
  if (!isPlainObject(prompt)) return send500(res);

  let promptId: string;
  const strict = options.profile === 'new' || options.profile === 'cloud';
  const supplied = json['prompt_id'];
  if (options.profile === 'legacy' || !('prompt_id' in json) || (strict && supplied === null)) {
    promptId = randomUUID();
  } else if (strict) {
    if (!isCanonicalUuid(supplied)) {
      return sendJson(res, 400, {
        error: { type: 'invalid_prompt_id', message: 'Invalid prompt_id format', details: `prompt_id must be a lowercase hyphenated UUID, got ${pyStr(supplied)}`, extra_info: {} },
        node_errors: {},
      });
    }
    promptId = supplied;
  } else {
    promptId = pyStr(supplied);
  }

  const targets = json['partial_execution_targets'];
  const result = validatePrompt(structuredClone(prompt), {
    info: ctx.info,
    missingNodeType: strict,
    imageExists: (name) => storage.imageExists(name),
    partialTargets: Array.isArray(targets) ? targets.map(String) : undefined,
  });
  if (!result.ok) return sendJson(res, 400, result.body);

  const extraData: Record<string, unknown> = isPlainObject(json['extra_data']) ? { ...json['extra_data'] } : {};
  if ('client_id' in json) extraData['client_id'] = json['client_id'];
  if (strict) {
    delete extraData['api_key_comfy_org'];
    delete extraData['auth_token_comfy_org'];
    extraData['create_time'] = Date.now();
  }
  sendJson(res, 200, { prompt_id: promptId, number, node_errors: result.nodeErrors });
  engine.enqueue({ number, promptId, prompt: result.prompt, extraData, outputs: result.outputs });
}
