// The one reader of the recorded ComfyUI 0.3.64 transcripts (test/fixtures/comfyui/transcripts/*.jsonl): the client
// tests replay their frames and bodies, the fake's tests compare its behaviour against them.
import { readFileSync, readdirSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = fileURLToPath(new URL('../../fixtures/comfyui/transcripts/', import.meta.url));

export interface HttpExchange {
  method: string;
  path: string;
  request_json?: unknown;
  request_description?: string;
  status: number;
  response_headers: Record<string, string>;
  response_json?: unknown;
  response_text?: string;
  response_magic?: string;
}

export type WsFrame =
  | { kind: 'text'; socket: string; json: { type: string; data?: Record<string, unknown> } }
  | {
      kind: 'binary';
      socket: string;
      event_type: number;
      image_format?: number;
      metadata?: Record<string, unknown>;
      image_length?: number;
      image_sha256?: string;
      /** The frame's bytes; recorded frames carry them, frames re-labelled from a live socket do not. */
      base64?: string;
    };

export interface TranscriptEvent {
  t_ms: number;
  dir: 'meta' | 'note' | 'http' | 'ws' | 'ws-out' | 'ws-in';
  [key: string]: unknown;
}

export interface Transcript {
  name: string;
  events: TranscriptEvent[];
  http: HttpExchange[];
  /** Every frame received, in recorded order across sockets. */
  received: WsFrame[];
  /** socket label → frames received, in order. */
  frames: Map<string, WsFrame[]>;
}

export function transcriptNames(): string[] {
  return readdirSync(DIR).filter((f) => f.endsWith('.jsonl')).map((f) => f.replace(/\.jsonl$/, '')).sort();
}

/** The file of a scenario named in full, by its number (`05`), or by path to a .jsonl file. */
function transcriptFile(name: string): string {
  if (name.endsWith('.jsonl')) return isAbsolute(name) ? name : `${DIR}${name}`;
  const names = transcriptNames();
  const found = names.includes(name) ? name : names.find((n) => n.startsWith(`${name}-`));
  if (!found) throw new Error(`no transcript "${name}" in ${DIR} (recorded: ${names.join(', ')})`);
  return `${DIR}${found}.jsonl`;
}

/** A recorded scenario by name (`03-prompt-emptyimage-invert-save`), number (`03`) or path to a .jsonl file. */
export function loadTranscript(name: string): Transcript {
  const file = transcriptFile(name);
  const events = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as TranscriptEvent;
      } catch (error) {
        throw new Error(`${file}:${i + 1}: not JSON (${(error as Error).message})`);
      }
    });
  const received = events.filter((e) => e.dir === 'ws-in') as unknown as WsFrame[];
  const frames = new Map<string, WsFrame[]>();
  for (const frame of received) frames.set(frame.socket, [...(frames.get(frame.socket) ?? []), frame]);
  return { name, events, http: events.filter((e) => e.dir === 'http') as unknown as HttpExchange[], received, frames };
}

export function httpExchanges(transcript: Transcript, method: string, pathPrefix: string): HttpExchange[] {
  return transcript.http.filter((h) => h.method === method && h.path.startsWith(pathPrefix));
}

/** Text frames as the server sent them (the recorded JSON, re-serialised). */
export function textFrames(transcript: Transcript): string[] {
  return transcript.received.flatMap((f) => (f.kind === 'text' ? [JSON.stringify(f.json)] : []));
}

type BinaryWsFrame = Extract<WsFrame, { kind: 'binary' }>;

/** Binary frames with their recorded bytes. */
export function binaryFrames(transcript: Transcript): Array<{ frame: BinaryWsFrame; bytes: Buffer }> {
  return transcript.received.flatMap((f) =>
    f.kind === 'binary' && typeof f.base64 === 'string' ? [{ frame: f, bytes: Buffer.from(f.base64, 'base64') }] : [],
  );
}

/** A frame as a short label: the JSON `type`, or `bin:<type>` for binary frames. */
function frameLabel(frame: WsFrame): string {
  return frame.kind === 'text' ? frame.json.type : `bin:${frame.event_type}`;
}

/** The labels of a socket's frames, in order. */
export function sequence(frames: readonly WsFrame[]): string[] {
  return frames.map(frameLabel);
}

/**
 * Split a socket's frames into the runs of each prompt: a run starts at the `status` broadcasts before its
 * `execution_start` and ends with its `executing{node:null}`.
 */
export function promptRuns(frames: readonly WsFrame[]): string[][] {
  const runs: string[][] = [];
  let current: string[] = [];
  for (const frame of frames) {
    current.push(frameLabel(frame));
    if (frame.kind === 'text' && frame.json.type === 'executing' && frame.json.data?.['node'] === null) {
      runs.push(current);
      current = [];
    }
  }
  return runs;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Replace what differs between runs (ids, timestamps, long tracebacks) so shapes can be compared. */
export function normalise(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(UUID, '<uuid>');
  if (Array.isArray(value)) return value.map(normalise);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, v]) => {
        if (key === 'timestamp' || key === 'sid') return [key, typeof v];
        if (key === 'traceback' || key === 'current_inputs') return [key, Array.isArray(v) ? 'list' : typeof v];
        return [key.replace(UUID, '<uuid>'), normalise(v)];
      }),
    );
  }
  return value;
}

/** The keys of an object, recursively, as `a.b.c` paths: compares shapes without values. */
export function shapeOf(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([key, v]) => shapeOf(v, prefix ? `${prefix}.${key}` : key)).sort();
}
