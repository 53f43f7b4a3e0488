// 1. Preview pipeline: the media room's encodePreview against the floor (the same work written straight in sharp:
// decode, shrink to the card's size, encode in the card's format and quality) and against forwarding the raw frame.
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

interface Cost {
  wallMs: number;
  /** User + system time of this process (sharp's libuv worker threads included), so other processes' load is left out. */
  cpuMs: number;
}

async function timed(fn: () => Promise<unknown>): Promise<Cost> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await fn();
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { wallMs, cpuMs: (used.user + used.system) / 1000 };
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
    // sharp's defaults for everything encodePreview sets explicitly (fit inside, no enlargement); same quality and effort
    const shrunk = () => sharp(frame).resize(maxSize, maxSize, { fit: 'inside', withoutEnlargement: true });
    const floor = () => (format === 'webp' ? shrunk().webp({ quality: 70, effort: 0 }) : shrunk().jpeg({ quality: 75 })).toBuffer();
    for (let i = 0; i < warmup; i++) {
      await card();
      await floor();
    }
    const cardCost: Cost[] = [];
    const floorCost: Cost[] = [];
    // interleaved, so drift (thermal, other processes) lands on both alike
    for (let i = 0; i < iterations; i++) {
      cardCost.push(await timed(card));
      floorCost.push(await timed(floor));
    }
    const cardMs = cardCost.map((c) => c.cpuMs);
    const floorMs = floorCost.map((c) => c.cpuMs);
    const wall = (costs: Cost[]) => costs.map((c) => c.wallMs);
    const atCard = await card();
    const atFloor = await floor();
    if ((await sharp(atFloor).metadata()).width !== atCard.width) throw new Error('the floor did not produce the size encodePreview did, so it is not the same work');
    const atEqual = await encodePreview(frame, { format, maxSize: Math.max(width ?? 512, height ?? 512) });
    const ratio = median(cardMs) / median(floorMs);
    const equalShare = atEqual.bytes.length / frame.length;
    return {
      rows: [
        { benchmark: 'preview', figure: `re-encode CPU median / p95 (${format} ≤${maxSize}px)`, value: `${fixed(median(cardMs), 2)} / ${fixed(p95(cardMs), 2)} ms`, target: null },
        { benchmark: 'preview', figure: 'floor CPU median / p95 (bare sharp, same work)', value: `${fixed(median(floorMs), 2)} / ${fixed(p95(floorMs), 2)} ms`, target: null },
        { benchmark: 'preview', figure: 're-encode / floor (CPU medians)', value: `${fixed(ratio, 2)}×`, target: atMost(ratio, 1.3, '≤ 1.3×') },
        { benchmark: 'preview', figure: 'wall median: re-encode / floor', value: `${fixed(median(wall(cardCost)), 2)} / ${fixed(median(wall(floorCost)), 2)} ms`, target: null },
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
        `${iterations} sequential runs each of encodePreview(frame, { format: '${format}', maxSize: ${maxSize} }) (config defaults) and of the floor sharp(frame).resize(${maxSize}, ${maxSize}, { fit: 'inside', withoutEnlargement: true }).${format}() at the same quality (both ${atCard.width}×${atCard.height} out), interleaved, after ${warmup} warm-up runs`,
        'CPU per call = user + system time of the bench process across the call (process.cpuUsage: the main thread and the libuv workers sharp encodes on), robust to other processes on the machine; wall time is shown for context',
        `"equal size": encodePreview with maxSize = the frame's own size, compared with the raw frame's bytes; forwarding the raw frame costs no encode but sends every byte`,
      ],
    };
  } finally {
    sharp.cache(true);
  }
}
