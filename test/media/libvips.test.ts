import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { releaseLibvipsCache } from '../../src/media/index.js';

afterEach(() => {
  sharp.cache(true);
});

describe('releaseLibvipsCache', () => {
  it("leaves libvips' operation cache no room: nothing the bot encodes is ever asked for twice", () => {
    expect(sharp.cache().items.max).toBeGreaterThan(0);
    releaseLibvipsCache();
    const cache = sharp.cache();
    expect({ memory: cache.memory.max, files: cache.files.max, items: cache.items.max }).toEqual({ memory: 0, files: 0, items: 0 });
  });
});
