// Live-preview frames: ComfyUI sends many per second (usually 512×512 JPEG q95); the card needs a small image,
// and only the newest one matters.
import sharp from 'sharp';

export type PreviewFormat = 'webp' | 'jpeg';

export interface PreviewOptions {
  format: PreviewFormat;
  /** Longest side in pixels; frames are shrunk to fit, never enlarged. */
  maxSize: number;
  /** 1–100; defaults tuned for a small card thumbnail. */
  quality?: number;
}

export interface EncodedPreview {
  bytes: Buffer;
  mime: 'image/webp' | 'image/jpeg';
  width: number;
  height: number;
}

const DEFAULT_QUALITY: Record<PreviewFormat, number> = { webp: 70, jpeg: 75 };

/** A frame bigger than this is not a preview: refuse it rather than decode it. */
const MAX_PREVIEW_PIXELS = 4096 * 4096;

export class PreviewEncodeError extends Error {
  override name = 'PreviewEncodeError';
}

/** Re-encode one preview frame in a single sharp pipeline, favouring speed over the last byte. */
export async function encodePreview(bytes: Buffer, options: PreviewOptions): Promise<EncodedPreview> {
  const { format, maxSize } = options;
  if (!Number.isInteger(maxSize) || maxSize < 1) {
    throw new RangeError(`preview maxSize must be a positive integer, got ${maxSize}`);
  }
  const quality = options.quality ?? DEFAULT_QUALITY[format];
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new RangeError(`preview quality must be an integer from 1 to 100, got ${quality}`);
  }
  const pipeline = sharp(bytes, { limitInputPixels: MAX_PREVIEW_PIXELS, sequentialRead: true }).resize({
    width: maxSize,
    height: maxSize,
    fit: 'inside',
    withoutEnlargement: true,
    fastShrinkOnLoad: true,
  });
  if (format === 'webp') pipeline.webp({ quality, effort: 0 });
  else pipeline.jpeg({ quality, mozjpeg: false });
  try {
    const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
    return { bytes: data, mime: format === 'webp' ? 'image/webp' : 'image/jpeg', width: info.width, height: info.height };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new PreviewEncodeError(`could not re-encode a ${bytes.length}-byte preview frame: ${reason}`, { cause: error });
  }
}

type Encode = (bytes: Buffer, options: PreviewOptions) => Promise<EncodedPreview>;

interface PendingFrame {
  bytes: Buffer;
  resolve: (preview: EncodedPreview | null) => void;
  reject: (error: unknown) => void;
}

/**
 * Encodes previews per job with at most one encode running and one frame waiting: a frame that arrives while
 * another waits replaces it (the replaced one resolves to null), so a flood of previews never queues work.
 */
export class PreviewEncoder {
  private readonly busy = new Map<string, PendingFrame | null>();
  private droppedCount = 0;

  constructor(
    private readonly options: PreviewOptions,
    private readonly encode: Encode = encodePreview,
  ) {}

  /** Frames dropped because a newer one arrived (for metrics). */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Resolves to the encoded frame, or null when a newer frame of the same job superseded it before encoding. */
  submit(jobId: string, bytes: Buffer): Promise<EncodedPreview | null> {
    return new Promise((resolve, reject) => {
      const frame: PendingFrame = { bytes, resolve, reject };
      if (!this.busy.has(jobId)) {
        this.busy.set(jobId, null);
        this.run(jobId, frame);
        return;
      }
      this.drop(this.busy.get(jobId) ?? null);
      this.busy.set(jobId, frame);
    });
  }

  /** Drop the waiting frame of a job that ended; an encode already running still settles. */
  forget(jobId: string): void {
    if (!this.busy.has(jobId)) return;
    this.drop(this.busy.get(jobId) ?? null);
    this.busy.set(jobId, null);
  }

  private drop(frame: PendingFrame | null): void {
    if (!frame) return;
    this.droppedCount += 1;
    frame.resolve(null);
  }

  private run(jobId: string, frame: PendingFrame): void {
    // Start the waiting frame before settling this one, so a caller that awaits a result sees the next encode begun.
    this.encode(frame.bytes, this.options).then(
      (preview) => {
        this.startNext(jobId);
        frame.resolve(preview);
      },
      (error: unknown) => {
        this.startNext(jobId);
        frame.reject(error);
      },
    );
  }

  private startNext(jobId: string): void {
    const next = this.busy.get(jobId) ?? null;
    if (!next) {
      this.busy.delete(jobId);
      return;
    }
    this.busy.set(jobId, null);
    this.run(jobId, next);
  }
}
