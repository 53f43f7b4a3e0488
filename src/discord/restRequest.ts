// How discord.js's REST manager sends its requests: through undici's `request` (the API the ComfyUI client uses
// too) instead of fetch. Every card edit is one of these requests, and fetch's WHATWG layers (Request, Headers,
// body streams) cost about three times the CPU of undici's request API for the same call. discord.js and
// @discordjs/rest run on the project's undici (package.json `overrides`), not on copies of their own: each copy
// loaded cost about 4 MB of the bot's memory, and a copy of undici 6 cannot drive undici 7's Agent, which is the
// process-wide dispatcher once undici 7 is imported ("action is not a function" on every upload).
import { STATUS_CODES } from 'node:http';
import type { RESTOptions } from 'discord.js';
import { request, type Dispatcher } from 'undici';

type RequestInit = Parameters<RESTOptions['makeRequest']>[1];

/** What @discordjs/rest reads of a response (its `ResponseLike`). */
export interface DiscordResponse {
  /** Always null: the body is read whole (Discord's answers are small JSON), so the socket goes back to the pool. */
  body: null;
  bodyUsed: boolean;
  headers: Headers;
  ok: boolean;
  status: number;
  statusText: string;
  arrayBuffer(): Promise<ArrayBuffer>;
  json(): Promise<unknown>;
  text(): Promise<string>;
}

/**
 * The body as undici's request takes it. discord.js builds uploads as the global FormData, which undici 7 does not
 * recognise as its own; Node's Response encodes it as multipart with its boundary in the content type.
 */
async function bodyOf(body: RequestInit['body']): Promise<{ bytes: string | Uint8Array | null; contentType?: string }> {
  if (body === null || body === undefined) return { bytes: null };
  if (typeof body === 'string' || body instanceof Uint8Array) return { bytes: body };
  const encoded = new Response(body as ConstructorParameters<typeof Response>[0]);
  const contentType = encoded.headers.get('content-type');
  return { bytes: new Uint8Array(await encoded.arrayBuffer()), ...(contentType ? { contentType } : {}) };
}

function headersOf(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.append(name, value);
  }
  return headers;
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
    headers: headersOf(res.headers),
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
