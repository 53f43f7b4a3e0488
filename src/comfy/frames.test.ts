import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { binaryFrames, loadTranscript } from '../../test/fakes/comfy/transcripts.js';
import { parseBinaryFrame } from './frames.js';

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('parseBinaryFrame', () => {
  it('reads type-1 JPEG previews recorded from a legacy client', () => {
    const frames = binaryFrames(loadTranscript('20'));
    expect(frames.length).toBeGreaterThan(0);
    for (const { frame, bytes } of frames) {
      const parsed = parseBinaryFrame(bytes);
      expect(parsed.kind).toBe('preview');
      if (parsed.kind !== 'preview') continue;
      expect(parsed.mime).toBe('image/jpeg');
      expect(parsed.bytes.length).toBe(frame.image_length);
      expect(sha(parsed.bytes)).toBe(frame.image_sha256);
    }
  });

  it('reads type-4 previews with their prompt id from a feature-flags client', () => {
    const frames = binaryFrames(loadTranscript('21'));
    expect(frames.length).toBeGreaterThan(0);
    for (const { frame, bytes } of frames) {
      const parsed = parseBinaryFrame(bytes);
      expect(parsed.kind).toBe('preview-with-metadata');
      if (parsed.kind !== 'preview-with-metadata') continue;
      expect(parsed.metadata).toEqual(frame.metadata);
      expect(parsed.metadata.prompt_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(parsed.mime).toBe('image/jpeg');
      expect(sha(parsed.bytes)).toBe(frame.image_sha256);
    }
  });

  it('reads PNG previews of SaveImageWebsocket in both framings', () => {
    const kinds = binaryFrames(loadTranscript('11')).map(({ bytes }) => parseBinaryFrame(bytes));
    expect(kinds.some((f) => f.kind === 'preview' && f.mime === 'image/png')).toBe(true);
    expect(kinds.some((f) => f.kind === 'preview-with-metadata' && f.mime === 'image/png')).toBe(true);
  });

  it('reads type-3 text frames: node id then text', () => {
    const frame = Buffer.concat([u32(3), u32(2), Buffer.from('12'), Buffer.from('héllo')]);
    expect(parseBinaryFrame(frame)).toEqual({ kind: 'text', nodeId: '12', text: 'héllo' });
  });

  it('ignores unknown frame types', () => {
    expect(parseBinaryFrame(Buffer.concat([u32(99), Buffer.from('x')]))).toEqual({ kind: 'unknown', eventType: 99 });
  });

  it.each([
    ['no type', Buffer.from([0, 0]), 'has no type'],
    ['type 1 without format', u32(1), 'shorter than its header'],
    ['type 1 with an unknown format', Buffer.concat([u32(1), u32(7)]), 'unknown preview image format 7'],
    ['type 3 with an overlong node id', Buffer.concat([u32(3), u32(50), Buffer.from('ab')]), 'exceeds the frame'],
    ['type 4 with an overlong metadata', Buffer.concat([u32(4), u32(500), Buffer.from('{}')]), 'exceeds the frame'],
    ['type 4 with bad JSON', Buffer.concat([u32(4), u32(3), Buffer.from('{x}')]), 'not JSON'],
    ['type 4 with an unknown image type', Buffer.concat([u32(4), u32(2), Buffer.from('{}')]), 'unknown preview image type'],
  ])('reports a truncated or malformed frame: %s', (_name, frame, reason) => {
    const parsed = parseBinaryFrame(frame);
    expect(parsed.kind).toBe('malformed');
    if (parsed.kind === 'malformed') expect(parsed.reason).toContain(reason);
  });
});
