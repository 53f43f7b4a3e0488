import type { IncomingMessage } from 'node:http';
import { apiError, httpError } from './errors.js';

export interface UploadedFile {
  /** The multipart field, e.g. 'files[0]'. */
  field: string;
  /** The n of files[n], which `attachments[].id` refers to on create/edit. */
  index: number;
  name: string;
  size: number;
  type: string;
  bytes: Buffer;
}

export interface ParsedBody {
  json: unknown;
  files: UploadedFile[];
}

const MIB = 1024 * 1024;

/**
 * Discord caps a whole request at 25 MiB, or at the per-file limit where that is larger (a boosted guild's 50 MiB
 * file must fit in a request), plus room for the JSON and multipart framing. Reading stops there so a runaway
 * upload cannot eat memory.
 */
export function maxRequestBytes(attachmentSizeLimit: number): number {
  return Math.max(25 * MIB, attachmentSizeLimit) + 64 * 1024;
}

export async function readRaw(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw apiError(413, 40005);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw apiError(400, 50109);
  }
}

/** JSON or multipart/form-data (payload_json + files[n]), the two body shapes discord.js sends. */
export async function parseBody(raw: Buffer, contentType: string | undefined): Promise<ParsedBody> {
  if (raw.length === 0) return { json: undefined, files: [] };
  if (contentType?.startsWith('multipart/form-data')) return parseMultipart(raw, contentType);
  if (contentType?.startsWith('application/json') || contentType === undefined) {
    return { json: parseJson(raw.toString('utf8')), files: [] };
  }
  throw httpError(415, `Unsupported Content-Type ${contentType}`);
}

async function parseMultipart(raw: Buffer, contentType: string): Promise<ParsedBody> {
  let form: FormData;
  try {
    form = await new Request('http://fake.invalid/', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: raw,
    }).formData();
  } catch (error) {
    throw httpError(400, `Malformed multipart body (${(error as Error).message})`);
  }
  let json: unknown = undefined;
  const files: UploadedFile[] = [];
  for (const [field, value] of form.entries()) {
    if (field === 'payload_json' && typeof value === 'string') {
      json = parseJson(value);
      continue;
    }
    const match = /^files\[(\d+)\]$/.exec(field) ?? /^file(\d*)$/.exec(field);
    if (!match || typeof value === 'string') continue;
    const bytes = Buffer.from(await value.arrayBuffer());
    files.push({
      field,
      index: Number(match[1] || 0),
      name: value.name,
      size: bytes.length,
      type: value.type || 'application/octet-stream',
      bytes,
    });
  }
  return { json, files };
}
