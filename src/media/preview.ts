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

interface WaitingFrame {
  bytes: Buffer;
  resolve: (preview: EncodedPreview | null) => void;
  reject: (error: unknown) => void;
}

interface JobFrames {
  /** The newest raw frame, not encoded yet. */
  waiting: WaitingFrame | null;
  /** The newest frame taken for encoding; a failed encode leaves the one before. */
  current: Promise<EncodedPreview | null>;
}

/**
 * Lazy per-job preview encoding. A card accepts about one edit a second while ComfyUI sends ten frames, so frames
 * are only kept (the newest raw frame per job) and encoded when a card edit is about to carry one (`latest`). A
 * frame replaced before then resolves its `submit` to null and costs no CPU.
 */
export class PreviewEncoder {
  private readonly jobs = new Map<string, JobFrames>();
  private droppedCount = 0;

  constructor(
    private readonly options: PreviewOptions,
    private readonly encode: Encode = encodePreview,
  ) {}

  /** Frames dropped because a newer one arrived or their job ended before they were needed (for metrics). */
  get dropped(): number {
    return this.droppedCount;
  }

  /**
   * Keeps `bytes` as the job's newest frame. Resolves to its encoding once `latest` encodes it, or to null when a
   * newer frame replaced it first (or the job was forgotten); rejects when its encoding failed.
   */
  submit(jobId: string, bytes: Buffer): Promise<EncodedPreview | null> {
    return new Promise((resolve, reject) => {
      const job = this.jobs.get(jobId);
      const frame: WaitingFrame = { bytes, resolve, reject };
      if (!job) {
        this.jobs.set(jobId, { waiting: frame, current: Promise.resolve(null) });
        return;
      }
      this.drop(job.waiting);
      job.waiting = frame;
    });
  }

  /**
   * The job's newest frame, encoded: encodes the waiting frame now if there is one, else returns the last encoding
   * (null before any frame). Rejects when encoding the waiting frame failed; the next call returns the previous one.
   */
  latest(jobId: string): Promise<EncodedPreview | null> {
    const job = this.jobs.get(jobId);
    if (!job) return Promise.resolve(null);
    const frame = job.waiting;
    if (!frame) return job.current;
    job.waiting = null;
    const previous = job.current;
    const encoding = this.encode(frame.bytes, this.options);
    encoding.then(frame.resolve, frame.reject);
    job.current = encoding.catch(() => previous);
    return encoding;
  }

  /** Forgets a job that ended: its waiting frame resolves to null. */
  forget(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (!job) return;
    this.drop(job.waiting);
    this.jobs.delete(jobId);
  }

  private drop(frame: WaitingFrame | null): void {
    if (!frame) return;
    this.droppedCount += 1;
    frame.resolve(null);
  }
}
