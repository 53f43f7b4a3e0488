// Reads the recorded ComfyUI 0.3.64 transcripts (test/fixtures/comfyui/transcripts/*.jsonl).
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const TRANSCRIPTS_DIR = fileURLToPath(new URL('../fixtures/comfyui/transcripts/', import.meta.url));

export interface TranscriptLine {
  dir: string;
  kind?: string;
  socket?: string;
  json?: unknown;
  base64?: string;
  method?: string;
  path?: string;
  status?: number;
  request_json?: unknown;
  response_json?: unknown;
  response_text?: string;
  event_type?: number;
  [key: string]: unknown;
}

export function transcriptNames(): string[] {
  return readdirSync(TRANSCRIPTS_DIR).filter((name) => name.endsWith('.jsonl')).sort();
}

export function readTranscript(name: string): TranscriptLine[] {
  const file = transcriptNames().find((n) => n.startsWith(name));
  if (!file) throw new Error(`no transcript ${name}`);
  return readFileSync(TRANSCRIPTS_DIR + file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as TranscriptLine);
}

/** Text frames as the server sent them (re-serialised verbatim JSON). */
export function textFrames(lines: TranscriptLine[], socket?: string): string[] {
  return lines
    .filter((l) => l.dir === 'ws-in' && l.kind === 'text' && (!socket || l.socket === socket))
    .map((l) => JSON.stringify(l.json));
}

export function binaryFrames(lines: TranscriptLine[]): Array<{ line: TranscriptLine; frame: Buffer }> {
  return lines
    .filter((l) => l.dir === 'ws-in' && l.kind === 'binary' && typeof l.base64 === 'string')
    .map((line) => ({ line, frame: Buffer.from(line.base64 as string, 'base64') }));
}

export function httpExchanges(lines: TranscriptLine[], method: string, pathPrefix: string): TranscriptLine[] {
  return lines.filter((l) => l.dir === 'http' && l.method === method && (l.path ?? '').startsWith(pathPrefix));
}
