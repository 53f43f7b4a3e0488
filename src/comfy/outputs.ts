// Output files of a finished prompt: which entries of the UI dicts are files, and what their bytes are.
// The magic-byte table is shared with media/: sniff.ts is a dependency-free leaf.
import { sniffType } from '../media/sniff.js';
import type { ComfyHttp } from './http.js';
import type { FileRef, NodeOutput, OutputFile } from './types.js';

const EXTENSION_MIME: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  mp4: 'video/mp4',
  webm: 'video/webm',
  flac: 'audio/flac',
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  opus: 'audio/ogg',
  txt: 'text/plain',
  json: 'application/json',
};

/** Magic bytes first (servers mislabel files; extensions lie), the extension as a fallback. */
export function sniffMime(bytes: Buffer, filename: string): string {
  const sniffed = sniffType(bytes)?.mime;
  if (sniffed) return sniffed;
  const ext = filename.toLowerCase().split('.').pop() ?? '';
  return EXTENSION_MIME[ext] ?? 'application/octet-stream';
}

function isFileRef(value: unknown): value is FileRef {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.filename === 'string' && typeof v.type === 'string';
}

export type PlannedOutput =
  | { source: 'file'; node: string; kind: string; ref: FileRef }
  | { source: 'text'; node: string; kind: string; text: string; index: number };

/** Every file and text item of the outputs, in node order; identical refs are listed once. */
export function planOutputs(outputs: Record<string, NodeOutput>, nodeFilter?: string[]): PlannedOutput[] {
  const planned: PlannedOutput[] = [];
  const seen = new Set<string>();
  for (const [node, output] of Object.entries(outputs)) {
    if (nodeFilter && !nodeFilter.includes(node)) continue;
    for (const [kind, items] of Object.entries(output ?? {})) {
      if (!Array.isArray(items)) continue;
      items.forEach((item: unknown, index) => {
        if (isFileRef(item)) {
          const key = `${item.type}/${item.subfolder ?? ''}/${item.filename}`;
          if (seen.has(key)) return;
          seen.add(key);
          planned.push({ source: 'file', node, kind, ref: { ...item, subfolder: item.subfolder ?? '' } });
        } else if (kind === 'text' && typeof item === 'string') {
          planned.push({ source: 'text', node, kind, text: item, index });
        }
      });
    }
  }
  return planned;
}

export async function downloadOutputs(http: ComfyHttp, outputs: Record<string, NodeOutput>, nodeFilter?: string[]): Promise<OutputFile[]> {
  return Promise.all(
    planOutputs(outputs, nodeFilter).map(async (item): Promise<OutputFile> => {
      if (item.source === 'text') {
        const ref: FileRef = { filename: `${item.node}-text-${item.index}.txt`, subfolder: '', type: 'text' };
        return { node: item.node, ref, kind: item.kind, mime: 'text/plain', bytes: Buffer.from(item.text, 'utf8') };
      }
      const { bytes } = await http.view(item.ref);
      return { node: item.node, ref: item.ref, kind: item.kind, mime: sniffMime(bytes, item.ref.filename), bytes };
    }),
  );
}
