import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachmentOrigins, downloadAttachment, type DownloadLimits } from './attachmentDownload.js';

const MB = 1024 * 1024;

/** A file server whose routes misbehave on purpose; counts the requests it answered. */
let server: Server;
let origin: string;
const hits: string[] = [];
const hanging: ServerResponse[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/small') return res.end(Buffer.alloc(1000, 1));
    if (req.url === '/lying-length') {
      // Says 1000 bytes, sends 3 MB in chunks (no length check would stop it).
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      for (let i = 0; i < 3; i++) res.write(Buffer.alloc(MB, 2));
      return res.end();
    }
    if (req.url === '/big-length') {
      res.writeHead(200, { 'content-length': String(5 * MB) });
      return res.end(Buffer.alloc(5 * MB));
    }
    if (req.url === '/redirect') {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' });
      return res.end();
    }
    if (req.url === '/hang') {
      res.writeHead(200);
      res.write('x');
      hanging.push(res); // never ended: only the time limit ends the download
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of hanging) res.destroy();
  await new Promise((resolve) => server.close(resolve));
});

function limits(extra: Partial<DownloadLimits> = {}): DownloadLimits {
  return { maxBytes: 2 * MB, timeoutMs: 5_000, origins: new Set([origin]), ...extra };
}

describe('downloadAttachment', () => {
  it('allows Discord’s CDN hosts and the API’s own origin only', () => {
    expect([...attachmentOrigins('http://127.0.0.1:9/api/v10')]).toEqual([
      'https://cdn.discordapp.com',
      'https://media.discordapp.net',
      'http://127.0.0.1:9',
    ]);
  });

  it('downloads a file within the limits', async () => {
    expect((await downloadAttachment(`${origin}/small`, 1000, limits())).length).toBe(1000);
  });

  it('refuses a declared size over the limit without fetching anything', async () => {
    const before = hits.length;
    await expect(downloadAttachment(`${origin}/small`, 30 * MB, limits())).rejects.toThrow('the file is 30 MB; the limit is 2 MB');
    expect(hits.length).toBe(before);
  });

  it('refuses any other host without fetching', async () => {
    const before = hits.length;
    await expect(downloadAttachment(`${origin}/small`, 10, limits({ origins: attachmentOrigins('https://discord.com/api') }))).rejects.toThrow(
      "the attachment is not on Discord's file servers, so it was not downloaded",
    );
    await expect(downloadAttachment('file:///etc/passwd', 10, limits())).rejects.toThrow("not on Discord's file servers");
    expect(hits.length).toBe(before);
  });

  it('stops reading once the bytes pass the limit, whatever size was declared', async () => {
    await expect(downloadAttachment(`${origin}/lying-length`, 1000, limits())).rejects.toThrow('the file is over 2 MB; the limit is 2 MB');
    await expect(downloadAttachment(`${origin}/big-length`, null, limits())).rejects.toThrow('the file is 5 MB; the limit is 2 MB');
  });

  it('follows no redirect, and reports HTTP errors', async () => {
    await expect(downloadAttachment(`${origin}/redirect`, 10, limits())).rejects.toThrow('the attachment could not be downloaded');
    await expect(downloadAttachment(`${origin}/missing`, 10, limits())).rejects.toThrow('the attachment could not be downloaded (HTTP 404)');
  });

  it('gives up after its time limit', async () => {
    await expect(downloadAttachment(`${origin}/hang`, 10, limits({ timeoutMs: 200 }))).rejects.toThrow(
      'the attachment could not be downloaded within 200 ms',
    );
  });
});
