// Downloads an attachment with a byte cap enforced while reading, so a file larger than it said cannot fill memory.
// (The attachment downloader of src/media should replace this once both are merged.)

export class DownloadError extends Error {
  override readonly name = 'DownloadError';
}

export async function downloadCapped(url: string, maxBytes: number): Promise<Buffer> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    throw new DownloadError(`the file could not be downloaded (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!response.ok || !response.body) throw new DownloadError(`the file could not be downloaded (HTTP ${response.status})`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      await response.body.cancel().catch(() => undefined);
      throw new DownloadError(`the file is larger than ${Math.round(maxBytes / 1024)} KiB`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
