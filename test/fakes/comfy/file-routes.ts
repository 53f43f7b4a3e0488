// POST /upload/image, POST /upload/mask and GET /view, with ComfyUI's naming, dedup and path rules.
import { existsSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import sharp from 'sharp';
import { send500, sendEmpty, sendJson } from './http-util.js';
import { isFolderType, type FolderType, type Storage } from './storage.js';

export interface UploadOptions {
  /** Comfy Cloud stores content-addressed: `subfolder` and `overwrite` are ignored. */
  cloud: boolean;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp', '.gif': 'image/gif',
  '.flac': 'audio/flac', '.wav': 'audio/x-wav', '.mp3': 'audio/mpeg', '.mp4': 'video/mp4', '.webm': 'video/webm',
  '.txt': 'text/plain', '.json': 'application/json',
};

export async function handleUpload(
  storage: Storage,
  headers: Record<string, string | string[] | undefined>,
  body: Buffer,
  kind: 'image' | 'mask',
  options: UploadOptions,
  res: ServerResponse,
): Promise<void> {
  let form: FormData;
  try {
    form = await new Request('http://fake/upload', {
      method: 'POST',
      headers: { 'content-type': String(headers['content-type'] ?? '') },
      body,
    }).formData();
  } catch {
    sendEmpty(res, 400);
    return;
  }
  const file = form.get('image');
  if (!(file instanceof File) || file.name === '') {
    sendEmpty(res, 400);
    return;
  }
  const typeField = form.get('type');
  const type = typeof typeField === 'string' && typeField !== '' ? typeField : 'input';
  if (!isFolderType(type)) {
    send500(res); // ComfyUI crashes on an unknown upload type
    return;
  }
  const subfolderField = form.get('subfolder');
  const subfolder = options.cloud || typeof subfolderField !== 'string' ? '' : subfolderField;
  const dir = storage.folder(type, subfolder);
  const overwriteField = form.get('overwrite');
  const overwrite = !options.cloud && (overwriteField === 'true' || overwriteField === '1');
  const filename = path.basename(file.name);
  if (!dir || filename === '' || filename === '..') {
    sendEmpty(res, 400);
    return;
  }
  let bytes: Buffer = Buffer.from(await file.arrayBuffer());
  if (kind === 'mask') {
    const original = originalImage(storage, form.get('original_ref'));
    if (!original) {
      sendEmpty(res, 400);
      return;
    }
    bytes = await applyMask(original, bytes);
  }
  const name = storage.storeUpload(dir, filename, bytes, overwrite);
  sendJson(res, 200, { name, subfolder, type });
}

function originalImage(storage: Storage, ref: unknown): string | undefined {
  if (typeof ref !== 'string') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(ref);
  } catch {
    return undefined;
  }
  const { filename, subfolder, type } = (parsed ?? {}) as Record<string, unknown>;
  if (typeof filename !== 'string') return undefined;
  const folderType = typeof type === 'string' && isFolderType(type) ? type : 'input';
  const file = storage.file(folderType, typeof subfolder === 'string' ? subfolder : '', filename);
  return file && existsSync(file) ? file : undefined;
}

/** The original's RGB with the uploaded image's alpha channel, as `/upload/mask` stores it. */
async function applyMask(originalFile: string, mask: Buffer): Promise<Buffer> {
  const original = sharp(readFileSync(originalFile));
  const { width = 1, height = 1 } = await original.metadata();
  const rgb = await original.removeAlpha().raw().toBuffer();
  const alpha = await sharp(mask).ensureAlpha().extractChannel(3).resize(width, height, { fit: 'fill' }).raw().toBuffer();
  const rgba = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba[i * 4] = rgb[i * 3]!;
    rgba[i * 4 + 1] = rgb[i * 3 + 1]!;
    rgba[i * 4 + 2] = rgb[i * 3 + 2]!;
    rgba[i * 4 + 3] = alpha[i]!;
  }
  return sharp(rgba, { raw: { width, height, channels: 4 } }).png().toBuffer();
}

export type ViewTarget = { ok: true; file: string; filename: string } | { ok: false; status: 400 | 403 | 404 };

/** Resolve `/view`'s query to a file, with ComfyUI's rules: basename'd filename, `[type]` annotations, traversal checks. */
export function resolveView(storage: Storage, query: URLSearchParams): ViewTarget {
  let filename = query.get('filename');
  if (filename === null) return { ok: false, status: 404 };
  let type = query.get('type') || 'output';
  const annotated = /^(.*) \[(input|output|temp)\]$/.exec(filename);
  if (annotated) {
    filename = annotated[1]!;
    type = annotated[2]!;
  }
  if (!isFolderType(type)) return { ok: false, status: 400 };
  if (filename.startsWith('/') || filename.includes('..')) return { ok: false, status: 400 };
  filename = path.basename(filename);
  const dir = storage.folder(type as FolderType, query.get('subfolder') ?? '');
  if (!dir) return { ok: false, status: 403 };
  const file = path.join(dir, filename);
  if (filename === '' || !existsSync(file)) return { ok: false, status: 404 };
  return { ok: true, file, filename };
}

/** Serve a resolved file with `/view`'s `preview` and `channel` variants. */
export async function serveView(target: { file: string; filename: string }, query: URLSearchParams, res: ServerResponse): Promise<void> {
  const preview = query.get('preview');
  const channel = query.get('channel') ?? 'rgba';
  const bytes = readFileSync(target.file);
  if (preview) {
    const [format = 'webp', qualityText] = preview.split(';');
    const quality = Number.parseInt(qualityText ?? '90', 10) || 90;
    const jpeg = format === 'jpeg';
    const image = jpeg ? sharp(bytes).jpeg({ quality }) : sharp(bytes).webp({ quality });
    return sendBytes(res, await image.toBuffer(), jpeg ? 'image/jpeg' : 'image/webp', target.filename);
  }
  if (channel === 'rgb') return sendBytes(res, await sharp(bytes).removeAlpha().png().toBuffer(), 'image/png', target.filename);
  if (channel === 'a') {
    const alpha = await sharp(bytes).ensureAlpha().extractChannel(3).png().toBuffer();
    return sendBytes(res, alpha, 'image/png', target.filename);
  }
  const type = CONTENT_TYPES[path.extname(target.filename).toLowerCase()] ?? 'application/octet-stream';
  sendBytes(res, bytes, type, target.filename);
}

function sendBytes(res: ServerResponse, bytes: Buffer, type: string, filename: string): void {
  res.writeHead(200, {
    'content-type': type,
    'content-length': bytes.length,
    'content-disposition': `filename="${filename}"`,
  });
  res.end(bytes);
}
