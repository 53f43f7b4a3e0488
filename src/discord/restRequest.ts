// How discord.js's REST manager sends its requests: through undici's `request` (the API the ComfyUI client uses
// too) instead of fetch. Every card edit is one of these requests, and fetch's WHATWG layers (Request, Headers,
// body streams) cost about three times the CPU of undici's request API for the same call. discord.js and
// @discordjs/rest run on the project's undici (package.json `overrides`), not on copies of their own: each copy
// loaded cost about 4 MB of the bot's memory, and a copy of undici 6 cannot drive undici 7's Agent, which is the
// process-wide dispatcher once undici 7 is imported ("action is not a function" on every upload).
import { STATUS_CODES } from 'node:http';
import type { RESTOptions } from 'discord.js';
import { request, type Dispatcher } from 'undici';
import { encodeMultipart } from './multipart.js';

type RequestInit = Parameters<RESTOptions['makeRequest']>[1];

/** What @discordjs/rest reads of a response (its `ResponseLike`). */
export interface DiscordResponse {
  /** Always null: the body is read whole (Discord's answers are small JSON), so the socket goes back to the pool. */
  body: null;
  bodyUsed: boolean;
  headers: ResponseHeaders;
  ok: boolean;
  status: number;
  statusText: string;
  arrayBuffer(): Promise<ArrayBuffer>;
  json(): Promise<unknown>;
  text(): Promise<string>;
}

/**
 * The body as undici's request takes it. discord.js builds uploads as the global FormData, which undici 7 does not
 * recognise as its own: it is encoded here (multipart.ts).
 */
async function bodyOf(body: RequestInit['body']): Promise<{ bytes: string | Uint8Array | null; contentType?: string }> {
  if (body === null || body === undefined) return { bytes: null };
  if (typeof body === 'string' || body instanceof Uint8Array) return { bytes: body };
  if (!(body instanceof FormData)) throw new TypeError(`cannot send a request body of type ${Object.prototype.toString.call(body)}`);
  const encoded = await encodeMultipart(body);
  return { bytes: encoded.body, contentType: encoded.contentType };
}

/**
 * The response headers as @discordjs/rest reads them (`get` and `has`, names in any case). A WHATWG Headers
 * validates and sorts every header of every response, for the four rate-limit headers read of each.
 */
export class ResponseHeaders {
  constructor(private readonly raw: Record<string, string | string[] | undefined>) {}

  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }
}

export async function discordRequest(url: string, init: RequestInit): Promise<DiscordResponse> {
  const { bytes, contentType } = await bodyOf(init.body);
  const headers = { ...(init.headers as Record<string, string> | undefined) };
  if (contentType) headers['content-type'] = contentType;
  const res = await request(url, {
    method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
    headers,
    body: bytes,
    signal: init.signal ?? null,
  });
  const data = Buffer.from(await res.body.arrayBuffer());
  let used = false;
  const take = (): Buffer => {
    if (used) throw new TypeError('the body of this Discord response was already read');
    used = true;
    return data;
  };
  return {
    body: null,
    get bodyUsed() {
      return used;
    },
    headers: new ResponseHeaders(res.headers),
    ok: res.statusCode >= 200 && res.statusCode < 300,
    status: res.statusCode,
    statusText: STATUS_CODES[res.statusCode] ?? '',
    arrayBuffer: async () => {
      const bytes = take();
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
    json: async () => JSON.parse(take().toString('utf8')) as unknown,
    text: async () => take().toString('utf8'),
  };
}
