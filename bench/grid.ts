// 7. Grid: composing a batch of four 1024² outputs into the card's numbered grid (media/grid.ts), against the bare
// sharp floor doing the same composite (same tiles, badges, layout and JPEG quality, no fitting loop, no size
// probing), and the grid's bytes against the default upload limit.
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { DEFAULT_UPLOAD_LIMIT } from '../src/discord/delivery.js';
import { composeGrid } from '../src/media/grid.js';
import { noisyImage } from '../test/media/images.js';
import { atMost, fixed, type BenchResult } from './report.js';
import { median, p95 } from './stats.js';

const ITERATIONS = 12;
const WARMUP = 2;
const SIDE = 1024;
/** What composeGrid lays out for four 1024² tiles at its default 2048 px: two columns, a 4 px gap. */
const TILE = (2048 - 4) / 2;

function badge(n: number, size: number): Buffer {
  const r = size / 2;
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><circle cx="${r}" cy="${r}" r="${r - 1}" fill="#000" fill-opacity="0.65" stroke="#fff" stroke-width="2"/>` +
      `<text x="50%" y="50%" dy="0.35em" text-anchor="middle" font-family="sans-serif" font-weight="bold" font-size="${Math.round(size * 0.6)}" fill="#fff">${n}</text></svg>`,
  );
}

async function floor(images: readonly Buffer[]): Promise<Buffer> {
  const badgeSize = Math.round(TILE * 0.12);
  const tiles = await Promise.all(images.map((bytes) => sharp(bytes).resize(TILE, TILE).png({ compressionLevel: 0 }).toBuffer()));
  const layers = tiles.flatMap((input, i) => {
    const left = (i % 2) * (TILE + 4);
    const top = Math.floor(i / 2) * (TILE + 4);
    return [{ input, left, top }, { input: badge(i + 1, badgeSize), left: left + Math.round(badgeSize / 4), top: top + Math.round(badgeSize / 4) }];
  });
  return sharp({ create: { width: 2048, height: 2048, channels: 3, background: '#202225' } }).composite(layers).jpeg({ quality: 85 }).toBuffer();
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

export async function runGrid(): Promise<BenchResult> {
  // Four different noisy 1024² PNGs, like a batch of SD outputs (grain makes them realistically hard to compress).
  const images = await Promise.all([0, 1, 2, 3].map((i) => noisyImage(SIDE, SIDE, 20 + i * 10).png().toBuffer()));
  sharp.cache(false);
  try {
    const card = () => composeGrid(images, { limitBytes: DEFAULT_UPLOAD_LIMIT });
    for (let i = 0; i < WARMUP; i++) {
      await card();
      await floor(images);
    }
    const cardMs: number[] = [];
    const floorMs: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      cardMs.push(await timed(card));
      floorMs.push(await timed(() => floor(images)));
    }
    const grid = await card();
    const ratio = median(cardMs) / median(floorMs);
    const share = grid.bytes.length / DEFAULT_UPLOAD_LIMIT;
    return {
      rows: [
        { benchmark: 'grid', figure: 'composeGrid median / p95 (4 × 1024²)', value: `${fixed(median(cardMs), 1)} / ${fixed(p95(cardMs), 1)} ms`, target: null },
        { benchmark: 'grid', figure: 'floor median (bare sharp composite)', value: `${fixed(median(floorMs), 1)} ms`, target: null },
        { benchmark: 'grid', figure: 'composeGrid / floor (medians)', value: `${fixed(ratio, 2)}×`, target: atMost(ratio, 1.3, '≤ 1.3×') },
        { benchmark: 'grid', figure: 'grid bytes / upload limit (10 MiB)', value: `${fixed(share * 100, 1)} % (${grid.bytes.length} B, ${grid.width}×${grid.height})`, target: atMost(share, 1, '≤ 100 %') },
      ],
      method: [
        `four noisy ${SIDE}×${SIDE} PNGs (${images.map((b) => b.length).join(', ')} B); sharp cache off, concurrency ${sharp.concurrency()}`,
        `${ITERATIONS} interleaved runs each of composeGrid(images, { limitBytes: 10 MiB }) and of the floor: the same four resizes, badges, composite and JPEG q85 written straight in sharp, after ${WARMUP} warm-up runs; wall time per call`,
      ],
    };
  } finally {
    sharp.cache(true);
  }
}
