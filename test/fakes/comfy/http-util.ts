// Small response helpers that reproduce aiohttp's answers byte for byte where clients can see the difference.
import type { IncomingMessage, ServerResponse } from 'node:http';

const JSON_TYPE = 'application/json; charset=utf-8';

/** aiohttp's answer to an unhandled exception in a handler. */
const AIOHTTP_500 = '500 Internal Server Error\n\nServer got itself in trouble';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Status only, no body and no content type (ComfyUI's `web.Response(status=...)`). */
export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-length': 0 });
  res.end();
}

export function sendText(res: ServerResponse, status: number, text: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function send500(res: ServerResponse): void {
  sendText(res, 500, AIOHTTP_500);
}

export class BodyTooLarge extends Error {}

/** Read the whole body, refusing more than `limit` bytes like aiohttp's `client_max_size`. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLarge(`body of ${declared} bytes over ${limit}`);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > limit) throw new BodyTooLarge(`body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Parse a JSON body; `undefined` for an empty body. Throws on malformed JSON (→ 500 in ComfyUI). */
export function parseJsonBody(body: Buffer): unknown {
  const text = body.toString('utf8');
  return text.trim() === '' ? undefined : JSON.parse(text);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The loopback check of ComfyUI's origin middleware: Host and Origin hostnames (and ports, when both have one) must match. */
export function originMismatch(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (!origin || !host) return false;
  let originUrl: URL;
  let hostUrl: URL;
  try {
    originUrl = new URL(origin);
    hostUrl = new URL(`http://${host}`);
  } catch {
    return true;
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(hostUrl.hostname);
  if (!loopback) return false;
  if (originUrl.hostname !== hostUrl.hostname) return true;
  return originUrl.port !== '' && hostUrl.port !== '' && originUrl.port !== hostUrl.port;
}
