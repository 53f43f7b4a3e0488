// What the templates room needs to know about a backend, and how to read ComfyUI's node descriptions. Kept to
// two calls so the caller can back them with a ComfyClient, a cache, or a test double.
import { comboOptions as comboValues } from '../comfy/combo.js';
import type { NodeInfo } from '../comfy/http.js';
import { isRecord } from './workflow.js';

export type { NodeInfo };

export interface ServerInfo {
  /** `GET /object_info/{cls}`: either `{[cls]: info}` or the node info itself; `{}`/undefined when not installed. */
  objectInfo(nodeClass: string): Promise<unknown>;
  /** `GET /models/{folder}`: file names; rejects when the folder does not exist. */
  models(folder: string): Promise<string[]>;
}

/** One input's spec from object_info: `[TYPE, opts]`, `[[choices...], opts]` or `["COMBO", {options}]`. */
export type InputSpec = [unknown, Record<string, unknown>?];

/** Accepts both the wrapped (`{KSampler: {...}}`) and the bare form; undefined for an unknown class. */
export function nodeInfoFrom(raw: unknown, nodeClass: string): NodeInfo | undefined {
  const unwrapped = isRecord(raw) && Object.hasOwn(raw, nodeClass) ? raw[nodeClass] : raw;
  return isRecord(unwrapped) && isRecord(unwrapped.input) ? (unwrapped as NodeInfo) : undefined;
}

export function inputSpec(info: NodeInfo, input: string): InputSpec | undefined {
  for (const section of [info.input.required, info.input.optional]) {
    if (section && Object.hasOwn(section, input)) {
      const spec = section[input];
      if (Array.isArray(spec)) return spec as InputSpec;
    }
  }
  return undefined;
}

/** The allowed values of a combo input (either shape) as strings, or undefined when it is not a combo. */
export function comboOptions(spec: InputSpec): string[] | undefined {
  return comboValues(spec)?.map(String);
}

/**
 * A ServerInfo that answers repeated questions from memory for `ttlMs`: autocomplete asks on every keystroke, while
 * model folders and node lists change rarely. A failed answer is not remembered, so the next keystroke asks again.
 */
export function cachedServerInfo(source: ServerInfo, ttlMs: number, now: () => number = Date.now): ServerInfo {
  const memo = new Map<string, { at: number; answer: Promise<unknown> }>();
  function remember<T>(key: string, ask: () => Promise<T>): Promise<T> {
    const hit = memo.get(key);
    if (hit && now() - hit.at < ttlMs) return hit.answer as Promise<T>;
    const answer = ask();
    memo.set(key, { at: now(), answer });
    answer.catch(() => {
      if (memo.get(key)?.answer === answer) memo.delete(key);
    });
    return answer;
  }
  return {
    objectInfo: (nodeClass) => remember(`object_info/${nodeClass}`, () => source.objectInfo(nodeClass)),
    models: (folder) => remember(`models/${folder}`, () => source.models(folder)),
  };
}
