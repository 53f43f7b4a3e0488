import { describe, expect, it } from 'vitest';
import { extensionFor, sniffMime, sniffType } from '../../src/media/sniff.js';
import { animated, solid } from './images.js';

function bytes(...parts: (string | number[])[]): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
}

describe('sniffMime', () => {
  it('recognises images made by sharp', async () => {
    expect(sniffMime(await solid(8, 8).png().toBuffer())).toBe('image/png');
    expect(sniffMime(await solid(8, 8).jpeg().toBuffer())).toBe('image/jpeg');
    expect(sniffMime(await solid(8, 8).webp().toBuffer())).toBe('image/webp');
    expect(sniffMime(await solid(8, 8).gif().toBuffer())).toBe('image/gif');
    expect(sniffMime(await animated('webp'))).toBe('image/webp');
    expect(sniffMime(await animated('gif'))).toBe('image/gif');
  });

  it.each([
    ['video/mp4', bytes([0, 0, 0, 0x20], 'ftypisom', [0, 0, 2, 0])],
    ['video/quicktime', bytes([0, 0, 0, 0x14], 'ftypqt  ')],
    ['audio/mp4', bytes([0, 0, 0, 0x20], 'ftypM4A ')],
    ['image/avif', bytes([0, 0, 0, 0x1c], 'ftypavif')],
    ['image/heic', bytes([0, 0, 0, 0x18], 'ftypheic')],
    ['video/webm', bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81])],
    ['audio/flac', bytes('fLaC', [0, 0, 0, 0x22])],
    ['audio/wav', bytes('RIFF', [0x24, 0, 0, 0], 'WAVEfmt ')],
    ['audio/mpeg', bytes('ID3', [4, 0, 0, 0, 0, 0, 0])],
    ['audio/mpeg', bytes([0xff, 0xfb, 0x90, 0x64])],
    ['audio/ogg', bytes('OggS', [0, 2])],
    ['application/pdf', bytes('%PDF-1.7\n')],
    ['application/zip', bytes('PK', [3, 4, 20, 0])],
  ])('recognises %s by its magic bytes', (mime, data) => {
    expect(sniffMime(data)).toBe(mime);
  });

  it('returns null for unknown, empty and truncated data', () => {
    expect(sniffMime(Buffer.from('hello, world'))).toBeNull();
    expect(sniffMime(Buffer.alloc(0))).toBeNull();
    expect(sniffMime(Buffer.from([0x89, 0x50, 0x4e]))).toBeNull();
    expect(sniffMime(bytes('RIFF', [0, 0, 0, 0], 'AVI '))).toBeNull();
    expect(sniffMime(Buffer.from([0xff, 0xe0, 0x00, 0x00]))).toBeNull();
  });

  it('works on a Uint8Array view into a larger buffer', () => {
    const backing = bytes('xxxx%PDF-1.4');
    expect(sniffMime(backing.subarray(4))).toBe('application/pdf');
  });

  it('gives a kind, extension and label', () => {
    expect(sniffType(bytes('%PDF-1.7'))).toMatchObject({ kind: 'document', ext: 'pdf', label: 'PDF' });
    expect(extensionFor('image/jpeg')).toBe('jpg');
    expect(extensionFor('text/plain')).toBeNull();
  });
});
