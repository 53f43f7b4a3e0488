import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discordRequest } from './restRequest.js';

interface Seen {
  method: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let base: string;
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('latin1') });
      if (req.url === '/limited') {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '2', 'x-ratelimit-scope': 'user' });
        res.end('{"message":"You are being rate limited.","retry_after":2,"global":false}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-ratelimit-remaining': '4' });
      res.end('{"id":"m1"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('discordRequest', () => {
  it('sends a JSON body with its headers and answers like a fetch Response', async () => {
    const res = await discordRequest(`${base}/webhooks/a/b/messages/@original`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bot x' },
      body: '{"content":"hi"}',
    });
    expect(seen.at(-1)).toMatchObject({ method: 'PATCH', body: '{"content":"hi"}', headers: { 'content-type': 'application/json', authorization: 'Bot x' } });
    expect(res).toMatchObject({ ok: true, status: 200, statusText: 'OK', bodyUsed: false });
    expect(res.headers.get('X-RateLimit-Remaining')).toBe('4');
    await expect(res.json()).resolves.toEqual({ id: 'm1' });
    expect(res.bodyUsed).toBe(true);
    await expect(res.text()).rejects.toThrow('already read');
  });

  it('encodes the FormData discord.js builds for uploads as multipart, boundary included', async () => {
    const form = new FormData();
    form.append('files[0]', new Blob([Buffer.from('RIFFwebp')], { type: 'image/webp' }), 'preview.webp');
    form.append('payload_json', '{"attachments":[{"id":0}]}');
    // the global FormData, which @discordjs/rest builds at run time (its types name undici's own)
    await discordRequest(`${base}/upload`, { method: 'PATCH', headers: { Authorization: 'Bot x' }, body: form as never });
    const request = seen.at(-1)!;
    const boundary = /^multipart\/form-data; boundary=(.+)$/.exec(String(request.headers['content-type']))?.[1];
    expect(boundary).toBeDefined();
    expect(request.body).toContain(`--${boundary}`);
    expect(request.body).toContain('filename="preview.webp"');
    expect(request.body).toContain('RIFFwebp');
    expect(request.body).toContain('{"attachments":[{"id":0}]}');
  });

  it('hands back a refusal with the headers discord.js reads for rate limits', async () => {
    const res = await discordRequest(`${base}/limited`, { method: 'GET' });
    expect(res).toMatchObject({ ok: false, status: 429, statusText: 'Too Many Requests' });
    expect(res.headers.get('Retry-After')).toBe('2');
    expect(res.headers.get('X-RateLimit-Scope')).toBe('user');
    expect(res.headers.has('x-ratelimit-global')).toBe(false);
    expect(res.headers.get('X-RateLimit-Bucket')).toBeNull();
    const body = JSON.parse(Buffer.from(await res.arrayBuffer()).toString('utf8')) as { retry_after: number };
    expect(body.retry_after).toBe(2);
  });

  it('refuses a body it does not know how to send instead of sending something else', async () => {
    await expect(discordRequest(`${base}/x`, { method: 'POST', body: new URLSearchParams('a=1') as never })).rejects.toThrow('cannot send a request body of type [object URLSearchParams]');
  });

  it('gives up when discord.js aborts the request', async () => {
    await expect(discordRequest(`${base}/slow`, { method: 'GET', signal: AbortSignal.abort() })).rejects.toThrow();
  });
});
