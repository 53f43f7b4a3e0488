import { describe, expect, it } from 'vitest';
import { readSse, type SseFrame } from './sse.js';

async function* chunks(parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part);
}

async function all(parts: string[]): Promise<SseFrame[]> {
  const out: SseFrame[] = [];
  for await (const frame of readSse(chunks(parts), { silenceMs: 1_000, abort: () => undefined })) out.push(frame);
  return out;
}

describe('readSse', () => {
  it('splits frames across chunks, skips comments, joins data lines and accepts CRLF', async () => {
    expect(await all(['event: sta', 'tus\ndata: {"status":', '"running"}\n\n: keepalive\n\n', 'event: log\r\ndata: a\r\ndata: b\r\n\r\n', 'data: x\n\n'])).toEqual([
      { event: 'status', data: '{"status":"running"}' },
      { event: 'log', data: 'a\nb' },
      { event: 'message', data: 'x' },
    ]);
  });

  it('drops a frame cut off by the end of the stream', async () => {
    expect(await all(['event: status\ndata: {"status":"succeeded"}\n'])).toEqual([]);
  });

  it('ends a silent stream after silenceMs and says so', async () => {
    let silent = false;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    async function* stalled(): AsyncGenerator<Uint8Array> {
      yield new TextEncoder().encode('event: status\ndata: {}\n\n');
      await gate;
    }
    const frames: SseFrame[] = [];
    for await (const frame of readSse(stalled(), { silenceMs: 20, abort: release, onSilent: () => (silent = true) })) frames.push(frame);
    expect(frames).toHaveLength(1);
    expect(silent).toBe(true);
  });
});
