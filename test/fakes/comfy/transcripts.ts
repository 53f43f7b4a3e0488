// Load the recorded ComfyUI transcripts (test/fixtures/comfyui/transcripts/*.jsonl) and reduce them to what a
// replay compares: the HTTP exchanges, and per socket the sequence of message types.
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
  | { kind: 'binary'; socket: string; event_type: number; image_format?: number; metadata?: Record<string, unknown> };

export interface TranscriptEvent {
  t_ms: number;
  dir: 'meta' | 'note' | 'http' | 'ws' | 'ws-out' | 'ws-in';
  [key: string]: unknown;
}

export interface Transcript {
  name: string;
  events: TranscriptEvent[];
  http: HttpExchange[];
  /** socket label → frames received, in order. */
  frames: Map<string, WsFrame[]>;
}

export function transcriptNames(): string[] {
  return readdirSync(DIR).filter((f) => f.endsWith('.jsonl')).map((f) => f.replace(/\.jsonl$/, '')).sort();
}

/** A recorded scenario by name (`03-prompt-emptyimage-invert-save`) or by path to a .jsonl file. */
export function loadTranscript(name: string): Transcript {
  const file = name.endsWith('.jsonl') ? name : `${name}.jsonl`;
  const events = readFileSync(isAbsolute(file) ? file : `${DIR}${file}`, 'utf8').split('\n').filter((l) => l.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as TranscriptEvent;
      } catch (error) {
        throw new Error(`${file}:${i + 1}: not JSON (${(error as Error).message})`);
      }
    });
  const frames = new Map<string, WsFrame[]>();
  for (const event of events) {
    if (event.dir !== 'ws-in') continue;
    const socket = String(event['socket']);
    const list = frames.get(socket) ?? [];
    list.push(event as unknown as WsFrame);
    frames.set(socket, list);
  }
  return { name, events, http: events.filter((e) => e.dir === 'http') as unknown as HttpExchange[], frames };
}

/** A frame as a short label: the JSON `type`, or `bin:<type>` for binary frames. */
export function frameLabel(frame: WsFrame): string {
  return frame.kind === 'text' ? frame.json.type : `bin:${frame.event_type}`;
}

/** The labels of a socket's frames, optionally only those of one prompt (binary type-1 frames carry no id). */
export function sequence(frames: readonly WsFrame[], options: { drop?: readonly string[] } = {}): string[] {
  return frames.map(frameLabel).filter((label) => !options.drop?.includes(label));
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
