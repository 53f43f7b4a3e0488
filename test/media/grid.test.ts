import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { composeGrid, GridError, gridShape } from '../../src/media/grid.js';
import { noisyImage } from './images.js';

async function colour(r: number, g: number, b: number, width = 512, height = 512): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r, g, b } } }).png().toBuffer();
}

describe('composeGrid', () => {
  it('lays four images out 2×2, tiles in order, numbered, within the limit', async () => {
    const images = await Promise.all([colour(255, 0, 0), colour(0, 255, 0), colour(0, 0, 255), colour(255, 255, 0)]);
    const grid = await composeGrid(images, { limitBytes: 10 * 1024 * 1024, maxSide: 1028 });
    expect(grid).toMatchObject({ mime: 'image/jpeg', width: 1028, height: 1028 });
    const { data, info } = await sharp(grid.bytes).raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3));
    // The middle of each tile has its image's colour (JPEG: close, not exact).
    const near = (actual: number[], expected: number[]) => actual.every((v, i) => Math.abs(v - expected[i]!) < 24);
    expect(near(pixel(300, 300), [255, 0, 0])).toBe(true);
    expect(near(pixel(800, 300), [0, 255, 0])).toBe(true);
    expect(near(pixel(300, 800), [0, 0, 255])).toBe(true);
    expect(near(pixel(800, 800), [255, 255, 0])).toBe(true);
    // The badge in the first tile's corner is drawn over the image (dark disc).
    expect(near(pixel(12 + 30, 12 + 30), [255, 0, 0])).toBe(false);
  });

  it('shrinks until the grid fits the byte limit', async () => {
    const images = await Promise.all([0, 1, 2, 3].map(() => noisyImage(1024, 1024, 120).png().toBuffer()));
    const grid = await composeGrid(images, { limitBytes: 300_000 });
    expect(grid.bytes.length).toBeLessThanOrEqual(300_000);
    expect(grid.width).toBeLessThan(2048);
  });

  it('keeps the aspect ratio of the images and says when it cannot fit', async () => {
    const wide = await Promise.all([colour(9, 9, 9, 768, 512), colour(9, 9, 9, 768, 512)]);
    const grid = await composeGrid(wide, { limitBytes: 10_000_000, maxSide: 1540 });
    expect([grid.width, grid.height]).toEqual([1540, 512]);
    await expect(composeGrid(wide, { limitBytes: 10 })).rejects.toThrow(GridError);
    await expect(composeGrid(wide.slice(0, 1), { limitBytes: 10_000_000 })).rejects.toThrow('at least 2 images');
  });

  it('picks near-square shapes', () => {
    expect([2, 3, 4, 5, 9].map(gridShape)).toEqual([
      { columns: 2, rows: 1 }, { columns: 2, rows: 2 }, { columns: 2, rows: 2 }, { columns: 3, rows: 2 }, { columns: 3, rows: 3 },
    ]);
  });
});
