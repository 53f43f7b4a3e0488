// The one HTTP exchange both ComfyUI clients (classic and Comfy API v2) make: a request with a time limit, the
// whole answer read, and a failure to connect turned into ComfyConnectionError naming the backend and route.
import { Agent, request, type Dispatcher, type FormData } from 'undici';
import { ComfyConnectionError, type ErrorPlace } from './errors.js';

/**
 * How long an idle connection to a backend is kept for the next request. ComfyUI's server (aiohttp) keeps one 75 s
 * without announcing it, so undici's default of 4 s opened a new connection for nearly every request: a backend's
 * health probe comes every 10 s and a job's requests (submit, history, outputs) are seconds apart. 30 s spans the
 * probe interval and stays under common proxies' idle limits (60 s and up); a server that announces a shorter
 * Keep-Alive timeout still gets it, less undici's safety margin.
 */
export const COMFY_KEEP_ALIVE_MS = 30_000;
/**
 * Connections per backend. More requests than this wait for a free one: reading the inventory asks for every
 * model folder at once, which opened one connection per folder (twenty on a stock install), now all kept alive.
 */
export const COMFY_CONNECTIONS = 6;
const comfyConnections = new Agent({ keepAliveTimeout: COMFY_KEEP_ALIVE_MS, connections: COMFY_CONNECTIONS });

export type RequestBody = { json: unknown } | { form: FormData } | undefined;

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: Buffer;
}

export interface RawRequest {
  method: string;
  url: string;
  body: RequestBody;
  headers: Record<string, string>;
  timeoutMs: number;
  /** Which backend and route, for the error. */
  place: ErrorPlace;
  baseUrl: string;
  /**
   * Takes a successful answer's body chunk by chunk instead of it being kept (the response's `bytes` are then
   * empty): for a large body that is only scanned. An error answer's body is still read whole, for its message.
   */
  sink?: BodySink;
}

export interface BodySink {
  push(chunk: Buffer): void;
}

export async function rawRequest({ method, url, body, headers, timeoutMs, place, baseUrl, sink }: RawRequest): Promise<RawResponse> {
  const options: { method: Dispatcher.HttpMethod; headers: Record<string, string>; body?: string | FormData; signal: AbortSignal; dispatcher: Dispatcher } = {
    method: method as Dispatcher.HttpMethod,
    dispatcher: comfyConnections,
    headers: { ...headers },
    signal: AbortSignal.timeout(timeoutMs),
  };
  if (body && 'json' in body) {
    options.headers['content-type'] = 'application/json';
    options.body = JSON.stringify(body.json);
  } else if (body) {
    options.body = body.form;
  }
  try {
    const res = await request(url, options);
    if (sink && res.statusCode >= 200 && res.statusCode < 300) {
      for await (const chunk of res.body) sink.push(chunk as Buffer);
      return { status: res.statusCode, headers: res.headers, bytes: Buffer.alloc(0) };
    }
    const bytes = Buffer.from(await res.body.arrayBuffer());
    return { status: res.statusCode, headers: res.headers, bytes };
  } catch (err) {
    throw new ComfyConnectionError(place, baseUrl, errorCode(err, timeoutMs), err);
  }
}

export function header(headers: RawResponse['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function errorCode(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; cause?: { code?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
  return e.code ?? e.cause?.code ?? (err instanceof Error ? err.message : String(err));
}
