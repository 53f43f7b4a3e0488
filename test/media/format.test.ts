import { describe, expect, it } from 'vitest';
import { formatBytes, formatMegapixels, withExtension } from '../../src/media/format.js';

describe('format', () => {
  it('formats sizes the way Discord counts them', () => {
    expect(formatBytes(31.2 * 1024 * 1024)).toBe('31.2 MB');
    expect(formatBytes(20 * 1024 * 1024)).toBe('20 MB');
    expect(formatBytes(850 * 1024)).toBe('850 KB');
    expect(formatBytes(12)).toBe('12 bytes');
    expect(formatMegapixels(16_777_216)).toBe('16.8 megapixels');
  });

  it('replaces or adds extensions', () => {
    expect(withExtension('ComfyUI_00001_.png', 'jpg')).toBe('ComfyUI_00001_.jpg');
    expect(withExtension('archive.tar.gz', 'webp')).toBe('archive.tar.webp');
    expect(withExtension('noext', 'webp')).toBe('noext.webp');
    expect(withExtension('.hidden', 'webp')).toBe('.hidden.webp');
  });
});
