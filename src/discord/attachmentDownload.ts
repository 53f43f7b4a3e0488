// Downloading a member's attachment is work a stranger can ask for, so it is bounded before and while it
// happens: only from Discord's file servers, refused from the declared size before any byte is fetched, cut off
// as soon as the bytes pass the limit (whatever the headers claimed), within a time limit, no redirects.
import { formatBytes } from '../media/format.js';

/** Discord's CDN hosts; the API's own host is added so a self-hosted or test Discord keeps working. */
const DISCORD_FILE_ORIGINS = ['https://cdn.discordapp.com', 'https://media.discordapp.net'] as const;

export interface DownloadLimits {
  maxBytes: number;
  timeoutMs: number;
  /** Origins (scheme://host:port) attachments may come from. */
  origins: ReadonlySet<string>;
}

/** A download refused or failed, worded for the member who sent the file. */
export class AttachmentDownloadError extends Error {
  override readonly name = 'AttachmentDownloadError';
}

/** The origins attachments may be fetched from: Discord's CDN and the origin of `apiUrl` (DISCORD_API_URL). */
export function attachmentOrigins(apiUrl: string): Set<string> {
  return new Set([...DISCORD_FILE_ORIGINS, new URL(apiUrl).origin]);
}

function tooBig(size: number | string, limit: number): AttachmentDownloadError {
  const shown = typeof size === 'number' ? formatBytes(size) : size;
  return new AttachmentDownloadError(`the file is ${shown}; the limit is ${formatBytes(limit)}`);
}

function duration(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`;
}

/** Throws AttachmentDownloadError (before fetching when it can); the bytes otherwise. */
export async function downloadAttachment(url: string, declaredSize: number | null, limits: DownloadLimits): Promise<Buffer> {
  if (declaredSize !== null && declaredSize > limits.maxBytes) throw tooBig(declaredSize, limits.maxBytes);
  let origin: string;
  try {
    origin = new URL(url).origin;
  } catch {
    throw new AttachmentDownloadError('the attachment has no valid address');
  }
  if (!limits.origins.has(origin)) throw new AttachmentDownloadError("the attachment is not on Discord's file servers, so it was not downloaded");

  const signal = AbortSignal.timeout(limits.timeoutMs);
  try {
    const response = await fetch(url, { signal, redirect: 'error' });
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new AttachmentDownloadError(`the attachment could not be downloaded (HTTP ${response.status})`);
    }
    const length = Number(response.headers.get('content-length') ?? NaN);
    if (length > limits.maxBytes) {
      await response.body.cancel();
      throw tooBig(length, limits.maxBytes);
    }
    const chunks: Uint8Array[] = [];
    let received = 0;
    for await (const chunk of response.body) {
      received += chunk.byteLength;
      if (received > limits.maxBytes) throw tooBig(`over ${formatBytes(limits.maxBytes)}`, limits.maxBytes);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, received);
  } catch (error) {
    if (error instanceof AttachmentDownloadError) throw error;
    if (signal.aborted) throw new AttachmentDownloadError(`the attachment could not be downloaded within ${duration(limits.timeoutMs)}`);
    throw new AttachmentDownloadError(`the attachment could not be downloaded (${error instanceof Error ? error.message : String(error)})`);
  }
}
