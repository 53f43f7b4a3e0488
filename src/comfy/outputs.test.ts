import { describe, expect, it } from 'vitest';
import { planOutputs, sniffMime } from './outputs.js';

const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

describe('sniffMime', () => {
  it.each([
    ['png', bytes([0x89], 'PNG\r\n\x1a\n'), 'image/png'],
    ['jpeg', bytes([0xff, 0xd8, 0xff, 0xe0]), 'image/jpeg'],
    ['webp', bytes('RIFF', [0, 0, 0, 0], 'WEBPVP8 '), 'image/webp'],
    ['gif', bytes('GIF89a'), 'image/gif'],
    ['mp4', bytes([0, 0, 0, 0x18], 'ftypisom'), 'video/mp4'],
    ['webm', bytes([0x1a, 0x45, 0xdf, 0xa3, 0]), 'video/webm'],
    ['flac', bytes('fLaC', [0]), 'audio/flac'],
    ['wav', bytes('RIFF', [0, 0, 0, 0], 'WAVEfmt '), 'audio/wav'],
    ['mp3 with ID3', bytes('ID3', [3, 0]), 'audio/mpeg'],
    ['mp3 frame', bytes([0xff, 0xfb, 0x90]), 'audio/mpeg'],
    ['ogg', bytes('OggS', [0]), 'audio/ogg'],
  ])('recognises %s by its magic bytes, whatever the name says', (_n, data, mime) => {
    expect(sniffMime(data, 'file.bin')).toBe(mime);
  });

  it('falls back to the extension, then to octet-stream', () => {
    expect(sniffMime(Buffer.from('hello'), 'notes.TXT')).toBe('text/plain');
    expect(sniffMime(Buffer.from('hello'), 'blob')).toBe('application/octet-stream');
  });
});

describe('planOutputs', () => {
  const outputs = {
    '9': { images: [{ filename: 'a.png', subfolder: '', type: 'output' }], animated: [false] },
    '10': { gifs: [{ filename: 'v.mp4', subfolder: 'vid', type: 'output', format: 'video/h264-mp4' }], text: ['caption'] },
    '11': { images: [{ filename: 'a.png', subfolder: '', type: 'output' }], audio: [{ filename: 's.flac', type: 'temp' }] },
  };

  it('lists files of every kind and text items, each file once', () => {
    const plan = planOutputs(outputs);
    expect(plan.map((p) => (p.source === 'file' ? `${p.node}:${p.kind}:${p.ref.filename}` : `${p.node}:${p.kind}:${p.text}`))).toEqual([
      '9:images:a.png',
      '10:gifs:v.mp4',
      '10:text:caption',
      '11:audio:s.flac',
    ]);
    const audio = plan.find((p) => p.kind === 'audio');
    expect(audio?.source === 'file' && audio.ref.subfolder).toBe('');
  });

  it('keeps only the requested nodes', () => {
    expect(planOutputs(outputs, ['11']).map((p) => p.node)).toEqual(['11', '11']);
  });
});
