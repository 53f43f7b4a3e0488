// 1. Preview pipeline: the media room's encodePreview against the floor (a bare sharp decode + encode of the same
// frame in the card's format, no resize) and against forwarding the raw frame.
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { configSchema } from '../src/config/schema.js';
import { encodePreview } from '../src/media/preview.js';
import { previewFrame } from './frame.js';
import { atMost, fixed, type BenchResult } from './report.js';
import { median, p95 } from './stats.js';

export interface PreviewBenchOptions {
  iterations: number;
  warmup: number;
}

const DEFAULTS: PreviewBenchOptions = { iterations: 300, warmup: 30 };

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

export async function runPreview(options: Partial<PreviewBenchOptions> = {}): Promise<BenchResult> {
  const { iterations, warmup } = { ...DEFAULTS, ...options };
  // The card's format and size as a default configuration has them.
  const { format, maxSize } = configSchema.shape.previews.parse(undefined);
  const frame = await previewFrame();
  const { width, height } = await sharp(frame).metadata();
  // libvips' operation cache would serve a repeated identical decode from memory; real frames all differ.
  sharp.cache(false);
  try {
    const card = () => encodePreview(frame, { format, maxSize });
    const floor = () => (format === 'webp' ? sharp(frame).webp({ quality: 70, effort: 0 }) : sharp(frame).jpeg({ quality: 75 })).toBuffer();
    for (let i = 0; i < warmup; i++) {
      await card();
      await floor();
    }
    const cardMs: number[] = [];
    const floorMs: number[] = [];
    // interleaved, so drift (thermal, other processes) lands on both alike
    for (let i = 0; i < iterations; i++) {
      cardMs.push(await timed(card));
      floorMs.push(await timed(floor));
    }
    const atCard = await card();
    const atEqual = await encodePreview(frame, { format, maxSize: Math.max(width ?? 512, height ?? 512) });
    const ratio = median(cardMs) / median(floorMs);
    const equalShare = atEqual.bytes.length / frame.length;
    return {
      rows: [
        { benchmark: 'preview', figure: `re-encode median (${format} ≤${maxSize}px)`, value: `${fixed(median(cardMs), 2)} ms`, target: null },
        { benchmark: 'preview', figure: 're-encode p95', value: `${fixed(p95(cardMs), 2)} ms`, target: null },
        { benchmark: 'preview', figure: 'floor median / p95 (bare decode+encode)', value: `${fixed(median(floorMs), 2)} / ${fixed(p95(floorMs), 2)} ms`, target: null },
        { benchmark: 'preview', figure: 're-encode / floor (medians)', value: `${fixed(ratio, 2)}×`, target: atMost(ratio, 1.3, '≤ 1.3×') },
        { benchmark: 'preview', figure: 'bytes per preview sent (card size)', value: `${atCard.bytes.length} B (${atCard.width}×${atCard.height})`, target: null },
        { benchmark: 'preview', figure: 'bytes per preview, raw frame forwarded', value: `${frame.length} B (${width}×${height})`, target: null },
        {
          benchmark: 'preview',
          figure: 'bytes at equal size / raw frame',
          value: `${fixed(equalShare * 100, 1)} % (${atEqual.bytes.length} B)`,
          target: atMost(equalShare, 1 / 3, '≤ 33.3 %'),
        },
      ],
      method: [
        `one synthetic ${width}×${height} JPEG q95 frame (${frame.length} B, smooth colour + grain, like a mid-run preview); sharp cache off, concurrency ${sharp.concurrency()}`,
        `${iterations} sequential runs each of encodePreview(frame, { format: '${format}', maxSize: ${maxSize} }) (config defaults) and of the floor sharp(frame).${format}() with the same quality and no resize, interleaved, after ${warmup} warm-up runs; wall time per call`,
        `"equal size": encodePreview with maxSize = the frame's own size, compared with the raw frame's bytes; forwarding the raw frame costs no encode but sends every byte`,
      ],
    };
  } finally {
    sharp.cache(true);
  }
}
