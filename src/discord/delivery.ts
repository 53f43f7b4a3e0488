// Turns a finished job's output files into the messages that carry them: stable meaningful names, each file
// fitted to the guild's upload limit, at most 10 files per message, and every re-encoding or left-out file named
// in a note so nothing disappears silently.
import type { OutputFile } from '../comfy/types.js';
import { fitToUploadLimit, type FitResult, type UploadFile } from '../media/fit.js';
import { formatBytes } from '../media/format.js';
import type { CardFile } from './cardRenderer.js';

export const DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024;
const FILES_PER_MESSAGE = 10;
/** Discord caps a whole message request; boosted guilds' larger per-file limits raise it with them. */
const MESSAGE_BYTES_FLOOR = 25 * 1024 * 1024;

/** media's `fitToUploadLimit`, injectable so tests need not run sharp. */
export type FitToUploadLimit = (file: UploadFile, limitBytes: number) => Promise<FitResult>;

export interface DeliveryFile extends UploadFile {
  kind: string;
}

export interface DeliveryPlan {
  /** The first batch goes on the job card; each further batch is a message of its own. */
  batches: DeliveryFile[][];
  /** Plain-words lines for the card: what was re-encoded, what could not be attached and why. */
  notes: string[];
  leftOut: { name: string; reason: string }[];
  /** The first image of the first batch an embed can show (png, jpeg, webp, gif), for the card's embed. */
  embedImage: string | null;
  /** e.g. "2 images, 1 video". */
  summary: string;
}

export interface DeliveryOptions {
  command: string;
  jobId: string;
  /** From `interaction.attachmentSizeLimit` via `uploadLimit`. */
  limitBytes: number;
  /** Default: media's fitToUploadLimit (sharp). */
  fit?: FitToUploadLimit;
  /** The guild posts results as spoilers: Discord blurs a file whose name starts with `SPOILER_`. */
  spoiler?: boolean;
}

const SPOILER_PREFIX = 'SPOILER_';

/** A posted file's name without the spoiler mark: the same output whether or not the guild spoilers it. */
export function deliveryKey(name: string): string {
  return name.startsWith(SPOILER_PREFIX) ? name.slice(SPOILER_PREFIX.length) : name;
}

/** The interaction's `attachment_size_limit` when Discord sent one, else Discord's default 10 MiB. */
export function uploadLimit(attachmentSizeLimit: number | null | undefined): number {
  return typeof attachmentSizeLimit === 'number' && Number.isFinite(attachmentSizeLimit) && attachmentSizeLimit > 0
    ? attachmentSizeLimit
    : DEFAULT_UPLOAD_LIMIT;
}

const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/apng': 'png',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'video/quicktime': 'mov',
  'audio/flac': 'flac',
  'audio/mpeg': 'mp3',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/ogg': 'ogg',
  'audio/opus': 'opus',
  'text/plain': 'txt',
  'application/json': 'json',
};
const EMBEDDABLE = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif']);

function extensionFor(mime: string, originalName: string): string {
  const known = EXTENSIONS[mime.toLowerCase()];
  if (known) return known;
  const fromName = /\.([A-Za-z0-9]{1,8})$/.exec(originalName)?.[1];
  return fromName ? fromName.toLowerCase() : 'bin';
}

/** `<command>_<first 8 of the job id>_<n>`: readable, unique per job, safe on every OS. */
function baseName(command: string, jobId: string, n: number): string {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9-]/g, '');
  return `${safe(command) || 'output'}_${safe(jobId).slice(0, 8) || 'job'}_${n}`;
}

function category(file: { kind: string; mime: string }): string {
  const mime = file.mime.toLowerCase();
  if (mime === 'image/gif' || file.kind === 'gifs' || file.kind === 'animated') return 'animation';
  if (mime.startsWith('image/')) return 'image';
  if (mime.startsWith('video/')) return 'video';
  if (mime.startsWith('audio/')) return 'audio';
  if (mime.startsWith('text/')) return 'text';
  return 'file';
}

function summarize(files: readonly { kind: string; mime: string }[]): string {
  if (files.length === 0) return 'no output files';
  const counts = new Map<string, number>();
  for (const file of files) counts.set(category(file), (counts.get(category(file)) ?? 0) + 1);
  return [...counts].map(([name, count]) => `${count} ${name}${count === 1 ? '' : 's'}`).join(', ');
}

export async function planDelivery(outputs: readonly OutputFile[], options: DeliveryOptions): Promise<DeliveryPlan> {
  const notes: string[] = [];
  const leftOut: DeliveryPlan['leftOut'] = [];
  const ready: DeliveryFile[] = [];
  const skip = (name: string, reason: string) => {
    leftOut.push({ name, reason });
    notes.push(`${name} could not be attached: ${reason}`);
  };

  // One at a time: fitting runs sharp, and the machine is shared with live previews of other jobs.
  for (const [i, output] of outputs.entries()) {
    const base = baseName(options.command, options.jobId, i + 1);
    const name = `${base}.${extensionFor(output.mime, output.ref.filename)}`;
    if (output.bytes.length === 0) {
      skip(name, 'the file is empty');
      continue;
    }
    if (output.bytes.length <= options.limitBytes) {
      ready.push({ name, mime: output.mime, bytes: output.bytes, kind: output.kind });
      continue;
    }
    let fitted: FitResult;
    try {
      fitted = await (options.fit ?? fitToUploadLimit)({ name, mime: output.mime, bytes: output.bytes }, options.limitBytes);
    } catch (error) {
      skip(name, `it is ${formatBytes(output.bytes.length)}, over the ${formatBytes(options.limitBytes)} limit, and shrinking it failed (${error instanceof Error ? error.message : String(error)})`);
      continue;
    }
    if ('tooLarge' in fitted) {
      skip(name, fitted.note);
      continue;
    }
    if (fitted.bytes.length > options.limitBytes) {
      skip(name, `still ${formatBytes(fitted.bytes.length)} after shrinking, over the ${formatBytes(options.limitBytes)} limit`);
      continue;
    }
    const fittedName = `${base}.${extensionFor(fitted.mime, fitted.name)}`;
    ready.push({ name: fittedName, mime: fitted.mime, bytes: fitted.bytes, kind: output.kind });
    notes.push(`${fittedName}: ${fitted.note ?? `re-encoded to fit the ${formatBytes(options.limitBytes)} upload limit`}`);
  }

  const files = options.spoiler ? ready.map((file) => ({ ...file, name: `${SPOILER_PREFIX}${file.name}` })) : ready;
  const batches = batch(files, Math.max(MESSAGE_BYTES_FLOOR, options.limitBytes));
  // An embed would show a spoilered image in the clear.
  const embedImage = options.spoiler ? null : (batches[0]?.find((file) => EMBEDDABLE.has(file.mime.toLowerCase()))?.name ?? null);
  if (batches.length > 1) notes.push(`${ready.length} files are spread over ${batches.length} messages`);
  return { batches, notes, leftOut, embedImage, summary: summarize(outputs) };
}

function batch(files: readonly DeliveryFile[], maxBytes: number): DeliveryFile[][] {
  const batches: DeliveryFile[][] = [];
  let current: DeliveryFile[] = [];
  let size = 0;
  for (const file of files) {
    if (current.length > 0 && (current.length >= FILES_PER_MESSAGE || size + file.bytes.length > maxBytes)) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(file);
    size += file.bytes.length;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** The form discord.js sends (`files` of a message payload). */
export function toCardFiles(files: readonly DeliveryFile[]): CardFile[] {
  return files.map((file) => ({ name: file.name, attachment: file.bytes }));
}
