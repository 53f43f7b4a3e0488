// A small raw client for tests of the fake (and anyone who wants to poke ComfyUI without the real client):
// undici for HTTP, `ws` for the socket, every frame recorded.
import { request } from 'undici';
import WebSocket from 'ws';
import type { WsFrame } from './transcripts.js';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: Buffer;
  text: string;
  /** The parsed body when it is JSON, else undefined. */
  json: unknown;
}

export async function http(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const init: { method: string; headers: Record<string, string>; body?: string | Buffer } = { method, headers: { ...headers } };
  if (body instanceof FormData) {
    // undici's request() does not take the global FormData: encode it the way fetch would
    const encoded = new Response(body);
    init.body = Buffer.from(await encoded.arrayBuffer());
    init.headers['content-type'] = encoded.headers.get('content-type') ?? '';
  } else if (Buffer.isBuffer(body) || typeof body === 'string') {
    init.body = body;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['content-type'] = 'application/json';
  }
  const response = await request(`${base}${path}`, init as Parameters<typeof request>[1]);
  const bytes = Buffer.from(await response.body.arrayBuffer());
  const text = bytes.toString('utf8');
  let json: unknown;
  if (String(response.headers['content-type'] ?? '').includes('json')) json = JSON.parse(text);
  return { status: response.statusCode, headers: response.headers, bytes, text, json };
}

export type ReceivedFrame =
  | { kind: 'text'; json: { type: string; data: Record<string, unknown> } }
  | { kind: 'binary'; eventType: number; bytes: Buffer };

/** As a transcript frame, so recorded and live sequences go through the same helpers. */
export function asTranscriptFrame(frame: ReceivedFrame, socket = 'live'): WsFrame {
  if (frame.kind === 'text') return { kind: 'text', socket, json: frame.json };
  return { kind: 'binary', socket, event_type: frame.eventType };
}

export class RecordingSocket {
  readonly frames: ReceivedFrame[] = [];
  private waiters: { test: (f: ReceivedFrame) => boolean; resolve: (f: ReceivedFrame) => void; from: number }[] = [];
  readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const frame: ReceivedFrame = isBinary
        ? { kind: 'binary', eventType: data.readUInt32BE(0), bytes: data }
        : { kind: 'text', json: JSON.parse(data.toString('utf8')) };
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => {
        if (!w.test(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
    this.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
  }

  /** Connect; `flags` sends the feature_flags handshake as the first message. */
  static async open(
    base: string,
    options: { clientId?: string; flags?: Record<string, unknown>; path?: string; query?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<RecordingSocket> {
    const url = new URL(options.path ?? '/ws', base.replace(/^http/, 'ws'));
    if (options.clientId !== undefined) url.searchParams.set('clientId', options.clientId);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    const ws = new WebSocket(url, { headers: options.headers ?? {} });
    const socket = new RecordingSocket(ws);
    const firstStatus = socket.waitFor((f) => f.kind === 'text' && f.json.type === 'status');
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`WebSocket upgrade refused: ${res.statusCode}`)));
    });
    if (options.flags) ws.send(JSON.stringify({ type: 'feature_flags', data: options.flags }));
    await firstStatus;
    if (options.flags) await socket.waitFor((f) => f.kind === 'text' && f.json.type === 'feature_flags');
    return socket;
  }

  /** Resolves with the first frame (already received or future) that matches. */
  waitFor(test: (frame: ReceivedFrame) => boolean, options: { after?: number } = {}): Promise<ReceivedFrame> {
    const from = options.after ?? 0;
    const found = this.frames.slice(from).find(test);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ test, resolve, from }));
  }

  /** Resolves when `executing{node:null}` for this prompt arrives. */
  finished(promptId: string): Promise<ReceivedFrame> {
    return this.waitFor((f) => f.kind === 'text' && f.json.type === 'executing' && f.json.data['node'] === null && f.json.data['prompt_id'] === promptId);
  }

  /** Message types (`bin:N` for binary frames) received so far. */
  labels(): string[] {
    return this.frames.map((f) => (f.kind === 'text' ? f.json.type : `bin:${f.eventType}`));
  }

  texts(type?: string): { type: string; data: Record<string, unknown> }[] {
    return this.frames.flatMap((f) => (f.kind === 'text' && (type === undefined || f.json.type === type) ? [f.json] : []));
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await this.closed;
  }
}
