// Where a submission's images come from, and turning them into saved input files. A source is only a
// reference (an attachment's address, or a file an earlier job saved): nothing is fetched or decoded until
// submitJob has run every cheap check, so a refused submission costs no download.
import { existsSync } from 'node:fs';
import type { JobStore, SavedInput } from '../jobs/store.js';
import { inspectImageInput } from '../media/input.js';
import { extensionFor } from '../media/sniff.js';
import { AttachmentDownloadError, downloadAttachment, type DownloadLimits } from './attachmentDownload.js';

export type ImageSource =
  /** A member's attachment, or a file on a job card (Upscale). */
  | { kind: 'attachment'; url: string; size: number | null; name: string }
  /** The input an earlier job saved (Reroll, Edit). */
  | { kind: 'saved'; filename: string; mime: string; saved: SavedInput }
  /**
   * Bytes got only when needed: a parent job's output for a follow-up action. `load` throws ImageInputError with
   * the words for the member when the bytes are gone.
   */
  | { kind: 'deferred'; name: string; load: () => Promise<Buffer> };

/** An image input ready for its job: a file in the store, which the job reads only when it is uploaded. */
export interface ReadyImage {
  filename: string;
  mime: string;
  saved: SavedInput;
}

/** What an image option accepts: checked before the download (declared size), during it, and when decoded. */
export const IMAGE_INPUT_LIMITS = { maxBytes: 25 * 1024 * 1024, maxPixels: 16 * 1024 * 1024, timeoutMs: 30_000 } as const;

export class ImageInputError extends Error {
  override readonly name = 'ImageInputError';
}

export interface ImageInputDeps {
  store: Pick<JobStore, 'saveInput'>;
  /** Where attachments may be downloaded from (`attachmentOrigins`). */
  origins: ReadonlySet<string>;
  limits?: Omit<DownloadLimits, 'origins'> & { maxPixels: number };
}

/** "photo (1).HEIC" → "photo__1_.jpg": a safe name with the extension of what is stored. */
function storedName(name: string, ext: string): string {
  const stem = name.replace(/\.[^.]*$/, '').replace(/[^\w.-]/g, '_').slice(0, 60) || 'input';
  return `${stem}.${ext}`;
}

/** An attachment's bytes within the limits; throws ImageInputError worded for the member. */
export async function download(option: string, url: string, size: number | null, limits: Omit<DownloadLimits, 'origins'>, origins: ReadonlySet<string>): Promise<Buffer> {
  try {
    return await downloadAttachment(url, size, { maxBytes: limits.maxBytes, timeoutMs: limits.timeoutMs, origins });
  } catch (error) {
    if (error instanceof AttachmentDownloadError) throw new ImageInputError(`${option}: ${error.message}`);
    throw error;
  }
}

/** Downloads, checks and saves one image option (a saved one is used as it is); throws ImageInputError. */
export async function readyImage(option: string, source: ImageSource, deps: ImageInputDeps): Promise<ReadyImage> {
  if (source.kind === 'saved') {
    if (!existsSync(source.saved.path)) throw new ImageInputError(`${option}: the image of the earlier job is no longer kept`);
    return { filename: source.filename, mime: source.mime, saved: source.saved };
  }
  const limits = deps.limits ?? IMAGE_INPUT_LIMITS;
  const bytes = source.kind === 'deferred' ? await source.load() : await download(option, source.url, source.size, limits, deps.origins);
  const checked = await inspectImageInput(bytes, { maxBytes: limits.maxBytes, maxPixels: limits.maxPixels });
  if (!checked.ok) throw new ImageInputError(`${option}: ${checked.reason}`);
  const saved = await deps.store.saveInput(checked.bytes);
  return { filename: storedName(source.name, extensionFor(checked.mime) ?? 'png'), mime: checked.mime, saved };
}
