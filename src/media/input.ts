// User attachments used as image inputs: checked by content, then normalised to an upright, metadata-free PNG.
import sharp, { type Metadata } from 'sharp';
import { formatBytes, formatMegapixels } from './format.js';
import { sniffType } from './sniff.js';

export type InputFormat = 'png' | 'jpeg' | 'webp' | 'gif' | 'avif' | 'tiff';

/** Formats sharp decodes and comfycord accepts as image inputs. */
const ACCEPTED: ReadonlyMap<string, InputFormat> = new Map([
  ['image/png', 'png'],
  ['image/jpeg', 'jpeg'],
  ['image/webp', 'webp'],
  ['image/gif', 'gif'],
  ['image/avif', 'avif'],
  ['image/tiff', 'tiff'],
]);

export interface ImageInputLimits {
  maxBytes: number;
  maxPixels: number;
  /**
   * Animated GIF/WebP: 'reject' (the default: ComfyUI's LoadImage would turn every frame into a batch) or
   * 'first-frame' (use the first frame as a still).
   */
  animated?: 'reject' | 'first-frame';
}

export type ImageInputResult =
  | { ok: true; bytes: Buffer; width: number; height: number; format: InputFormat }
  | { ok: false; reason: string };

function reject(reason: string): ImageInputResult {
  return { ok: false, reason };
}

export async function inspectImageInput(bytes: Buffer, limits: ImageInputLimits): Promise<ImageInputResult> {
  const type = sniffType(bytes);
  if (!type) return reject('that file is not an image');
  if (type.kind !== 'image') {
    return reject(`that file is not an image (looks like ${type.article} ${type.label})`);
  }
  const format = ACCEPTED.get(type.mime);
  if (!format) return reject(`${type.label} images are not supported; send a PNG, JPEG, WebP or GIF`);
  if (bytes.length > limits.maxBytes) {
    return reject(`the image is ${formatBytes(bytes.length)}; the limit is ${formatBytes(limits.maxBytes)}`);
  }

  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch {
    return reject(`that ${type.label} image could not be read (it looks corrupt)`);
  }
  const { width, height } = meta;
  if (!width || !height) return reject(`that ${type.label} image has no size (it looks corrupt)`);
  const pixels = width * height;
  if (pixels > limits.maxPixels) {
    return reject(
      `the image is ${width}×${height} (${formatMegapixels(pixels)}); the limit is ${formatMegapixels(limits.maxPixels)}`,
    );
  }
  if ((meta.pages ?? 1) > 1 && (limits.animated ?? 'reject') === 'reject') {
    return reject('animated images are not accepted here; send a still image');
  }

  try {
    // Decoding the first page only; 'truncated' fails on cut-off data but tolerates harmless encoder warnings.
    const { data, info } = await sharp(bytes, { failOn: 'truncated', limitInputPixels: limits.maxPixels })
      .autoOrient()
      .png()
      .toBuffer({ resolveWithObject: true });
    return { ok: true, bytes: data, width: info.width, height: info.height, format };
  } catch {
    return reject(`that ${type.label} image could not be decoded (it looks corrupt or truncated)`);
  }
}
