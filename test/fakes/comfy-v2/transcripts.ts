// The one reader of the recorded comfy-api-proxy transcripts (test/fixtures/comfyui/v2-transcripts/*.md): HTTP
// exchanges (method, path, status, JSON bodies) and SSE frame payloads, for replay tests of the client and
// comparisons of the fake v2 server with the real proxy.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DIR = fileURLToPath(new URL('../../fixtures/comfyui/v2-transcripts/', import.meta.url));

export interface V2Exchange {
  title: string;
  method: string;
  path: string;
  requestJson: unknown;
  status: number;
  responseJson: unknown;
}

export interface V2Frame {
  event: string;
  data: Record<string, unknown>;
}

function text(name: string): string {
  const file = readdirSync(DIR).find((f) => f.startsWith(`${name}-`) || f === `${name}.md`);
  if (!file) throw new Error(`no v2 transcript "${name}" in ${DIR}`);
  return readFileSync(`${DIR}${file}`, 'utf8');
}

function jsonBlocks(section: string): unknown[] {
  return [...section.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => {
    try {
      return JSON.parse(m[1]!) as unknown;
    } catch {
      return undefined;
    }
  });
}

/** Every request/response pair, in recorded order, under the heading it was recorded with. */
export function v2Exchanges(name: string): V2Exchange[] {
  const out: V2Exchange[] = [];
  for (const section of text(name).split(/\n(?=### )/)) {
    const title = /^### (.*)/.exec(section)?.[1] ?? '';
    const req = /\*\*→ `(\w+) ([^`]+)`\*\*/.exec(section);
    const res = /\*\*← (\d{3})/.exec(section);
    if (!req || !res) continue;
    const [before, after] = [section.slice(0, res.index), section.slice(res.index)];
    out.push({ title, method: req[1]!, path: req[2]!, requestJson: jsonBlocks(before)[0], status: Number(res[1]), responseJson: jsonBlocks(after)[0] });
  }
  return out;
}

/** The SSE frames of a transcript's "Frame payloads" list, in order (truncated base64 left as recorded). */
export function v2Frames(name: string): V2Frame[] {
  const frames: V2Frame[] = [];
  for (const m of text(name).matchAll(/\*\*#\d+ `event: (\w+)`\*\*[^\n]*\n```json\n([\s\S]*?)\n```/g)) {
    frames.push({ event: m[1]!, data: JSON.parse(m[2]!) as Record<string, unknown> });
  }
  return frames;
}
