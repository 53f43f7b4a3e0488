// The one HTTP exchange both ComfyUI clients (classic and Comfy API v2) make: a request with a time limit, the
// whole answer read, and a failure to connect turned into ComfyConnectionError naming the backend and route.
import { request, type Dispatcher, type FormData } from 'undici';
import { ComfyConnectionError, type ErrorPlace } from './errors.js';

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
}

export async function rawRequest({ method, url, body, headers, timeoutMs, place, baseUrl }: RawRequest): Promise<RawResponse> {
  const options: { method: Dispatcher.HttpMethod; headers: Record<string, string>; body?: string | FormData; signal: AbortSignal } = {
    method: method as Dispatcher.HttpMethod,
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
