// User attachments used as image inputs: checked by content, decoded once under a pixel limit, and kept compact
// (see inspectImageInput).
import sharp, { type Metadata } from 'sharp';
import { formatBytes, formatMegapixels } from './format.js';
import { sniffType } from './sniff.js';
import { stripMetadata } from './strip.js';

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

/** What is kept of an input: the sender's own bytes (metadata stripped) or a compact re-encoding. */
export type StoredInputFormat = 'png' | 'jpeg' | 'webp';

export type ImageInputResult =
  | {
      ok: true;
      bytes: Buffer;
      width: number;
      height: number;
      /** The format the member sent. */
      format: InputFormat;
      /** The format of `bytes`. */
      stored: StoredInputFormat;
      mime: string;
      /** `bytes` are the member's own, only metadata removed (else a re-encoding). */
      original: boolean;
    }
  | { ok: false; reason: string };

function reject(reason: string): ImageInputResult {
  return { ok: false, reason };
}

const STORED_MIME: Record<StoredInputFormat, string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };
const LOSSLESS_SOURCES: ReadonlySet<InputFormat> = new Set(['png', 'gif', 'tiff']);

function tooLarge(width: number, height: number, maxPixels: number): ImageInputResult {
  return reject(`the image is too large (${width}×${height}, the limit is ${formatMegapixels(maxPixels)})`);
}

/**
 * Checks an attachment by content and keeps it compact: the header says its size (nothing is decoded past the
 * pixel limit), the image is decoded exactly once, and what is kept is the member's own file with its metadata
 * stripped when it is an upright, still PNG, JPEG or WebP — else one re-encoding, upright and without metadata:
 * PNG for lossless sources or transparency, JPEG for photos. Never a PNG of a photo (a 10 MB JPEG of 4096²
 * would become ~47 MB).
 */
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
    // The header only: sharp's own pixel limit would make a huge image look like a broken one.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    return reject(`that ${type.label} image could not be read (it looks corrupt)`);
  }
  const { width, height } = meta;
  if (!width || !height) return reject(`that ${type.label} image has no size (it looks corrupt)`);
  if (width * height > limits.maxPixels) return tooLarge(width, height, limits.maxPixels);
  const animated = (meta.pages ?? 1) > 1;
  if (animated && (limits.animated ?? 'reject') === 'reject') {
    return reject('animated images are not accepted here; send a still image');
  }

  const upright = (meta.orientation ?? 1) === 1;
  const keepable = !animated && upright && (format === 'png' || format === 'jpeg' || format === 'webp');
  // 'truncated' fails on cut-off data but tolerates harmless encoder warnings; the first page only.
  const decoder = sharp(bytes, { failOn: 'truncated', limitInputPixels: limits.maxPixels });
  try {
    if (keepable) {
      const stripped = stripMetadata(bytes, format);
      if (stripped) {
        await decoder.stats(); // the one decode: every pixel read, nothing kept
        return { ok: true, bytes: stripped, width, height, format, stored: format, mime: STORED_MIME[format], original: true };
      }
    }
    const stored: StoredInputFormat = meta.hasAlpha || LOSSLESS_SOURCES.has(format) ? 'png' : 'jpeg';
    const pipeline = decoder.autoOrient();
    const encoded = stored === 'png' ? pipeline.png() : pipeline.jpeg({ quality: 92, chromaSubsampling: '4:4:4' });
    const { data, info } = await encoded.toBuffer({ resolveWithObject: true });
    return { ok: true, bytes: data, width: info.width, height: info.height, format, stored, mime: STORED_MIME[stored], original: false };
  } catch (error) {
    if (/pixel limit/i.test(String(error))) return tooLarge(width, height, limits.maxPixels);
    return reject(`that ${type.label} image could not be decoded (it looks corrupt or truncated)`);
  }
}
