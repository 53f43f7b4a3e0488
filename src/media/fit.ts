// Outputs must fit the upload limit of the place they are posted to: shrink images in steps that lose as little
// as possible, and say what was done so the user is not surprised.
import sharp from 'sharp';
import { formatBytes, withExtension } from './format.js';
import { sniffType } from './sniff.js';

export interface UploadFile {
  name: string;
  mime: string;
  bytes: Buffer;
}

export type FitResult = (UploadFile & { note?: string }) | { tooLarge: true; note: string };

/** Formats sharp can decode to re-encode smaller. */
const SHRINKABLE = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif', 'image/tiff', 'image/avif']);

/** Below this longest side a downscaled result is no longer worth posting. */
const MIN_SIDE = 64;

type Encoding =
  | { format: 'webp'; lossless: true }
  | { format: 'webp'; lossless: false; quality: number }
  | { format: 'jpeg'; quality: number };

const LOSSLESS_WEBP: Encoding = { format: 'webp', lossless: true };
const JPEG_Q90: Encoding = { format: 'jpeg', quality: 90 };
const WEBP_Q90: Encoding = { format: 'webp', lossless: false, quality: 90 };
const ANIMATED_WEBP_Q80: Encoding = { format: 'webp', lossless: false, quality: 80 };

interface Source {
  bytes: Buffer;
  animated: boolean;
  /** Size of one frame. */
  width: number;
  height: number;
}

function describe(encoding: Encoding, animated: boolean): string {
  const name = encoding.format === 'jpeg' ? 'JPEG' : animated ? 'animated WebP' : 'WebP';
  return encoding.format === 'webp' && encoding.lossless ? `lossless ${name}` : name;
}

async function encode(source: Source, encoding: Encoding, maxSide?: number): Promise<Buffer> {
  const pipeline = sharp(source.bytes, { animated: source.animated, limitInputPixels: false });
  if (maxSide !== undefined) {
    pipeline.resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true });
  }
  if (encoding.format === 'jpeg') {
    // JPEG has no alpha: flatten onto white rather than sharp's default black.
    return pipeline.flatten({ background: '#ffffff' }).jpeg({ quality: encoding.quality }).toBuffer();
  }
  if (encoding.lossless) return pipeline.webp({ lossless: true, effort: 3 }).toBuffer();
  return pipeline.webp({ quality: encoding.quality, effort: 3 }).toBuffer();
}

function tooLarge(note: string): FitResult {
  return { tooLarge: true, note };
}

/**
 * Return the file unchanged when it fits; otherwise re-encode an image (lossless WebP, then JPEG q90 — WebP q90
 * when it has transparency, animated WebP when animated — then downscaled in steps) until it fits.
 * Video, audio and anything sharp cannot decode come back as `tooLarge` with a note for the user.
 */
export async function fitToUploadLimit(file: UploadFile, limitBytes: number): Promise<FitResult> {
  if (!Number.isFinite(limitBytes) || limitBytes <= 0) {
    throw new RangeError(`upload limit must be a positive number of bytes, got ${limitBytes}`);
  }
  if (file.bytes.length <= limitBytes) return { ...file };

  const limitText = `Discord's ${formatBytes(limitBytes)} limit`;
  const over = `${file.name} is ${formatBytes(file.bytes.length)}, over ${limitText}`;
  const type = sniffType(file.bytes);
  if (!type || !SHRINKABLE.has(type.mime)) {
    const what = type ? `${type.label}s` : 'files of this type';
    return tooLarge(`${over}, and ${what} cannot be shrunk by the bot`);
  }

  let source: Source;
  let hasAlpha: boolean;
  try {
    const meta = await sharp(file.bytes, { limitInputPixels: false }).metadata();
    const animated = (meta.pages ?? 1) > 1;
    source = { bytes: file.bytes, animated, width: meta.width ?? 0, height: meta.pageHeight ?? meta.height ?? 0 };
    hasAlpha = meta.hasAlpha;
  } catch {
    return tooLarge(`${over}, and the image could not be read to shrink it`);
  }

  const lossy = source.animated ? ANIMATED_WEBP_Q80 : hasAlpha ? WEBP_Q90 : JPEG_Q90;
  // Lossless re-encoding of JPEG data only grows it.
  const steps = type.mime === 'image/jpeg' ? [lossy] : [LOSSLESS_WEBP, lossy];
  const done = (bytes: Buffer, encoding: Encoding, note: string): FitResult => {
    const mime = encoding.format === 'jpeg' ? 'image/jpeg' : 'image/webp';
    return { name: withExtension(file.name, encoding.format === 'jpeg' ? 'jpg' : 'webp'), mime, bytes, note };
  };

  try {
    let last = file.bytes.length;
    for (const encoding of steps) {
      const bytes = await encode(source, encoding);
      if (bytes.length <= limitBytes) {
        return done(bytes, encoding, `re-encoded as ${describe(encoding, source.animated)} to fit ${limitText}`);
      }
      last = Math.min(last, bytes.length);
    }
    // Bytes scale roughly with area: aim just under the limit, but always shrink by at least 15% per step.
    const longest = Math.max(source.width, source.height);
    let side = longest;
    for (;;) {
      side = Math.floor(side * Math.min(0.85, Math.sqrt(limitBytes / last) * 0.95));
      if (side < MIN_SIDE) break;
      const bytes = await encode(source, lossy, side);
      if (bytes.length <= limitBytes) {
        const meta = await sharp(bytes, { animated: source.animated }).metadata();
        const size = `${meta.width}×${meta.pageHeight ?? meta.height}`;
        return done(bytes, lossy, `downscaled to ${size} (${describe(lossy, source.animated)}) to fit ${limitText}`);
      }
      last = bytes.length;
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return tooLarge(`${over}, and re-encoding it failed (${reason})`);
  }
  return tooLarge(`${over}, even downscaled below ${MIN_SIDE} px`);
}
