// Where the CLI finds ComfyUI: `--server`/`--api-key`, then COMFY_URL/COMFY_API_KEY (as the bot reads them), then
// the local default. One helper so `run`, `check` and `workflow` can never disagree.
import { backendFromUrl, DEFAULT_COMFY_URL } from '../config/env.js';
import { ArgsError } from './args.js';

export interface ServerChoice {
  url: string;
  apiKey?: string;
  /** COMFY_URL named a Comfy API v2 endpoint (`v2:URL`), with the ComfyUI behind it when given (`v2:URL|URL`). */
  api?: 'v2';
  classicUrl?: string;
}

/** The server a command that needs one talks to: the flag, else COMFY_URL, else http://127.0.0.1:8188. */
export function serverFrom(values: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv): ServerChoice {
  return configuredServer(values, env) ?? withApiKey(DEFAULT_COMFY_URL, values, env);
}

/** The server named by --server or COMFY_URL, or undefined when neither is given (`check` then stays offline). */
export function configuredServer(values: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv): ServerChoice | undefined {
  const flag = values.get('server');
  if (flag !== undefined) return withApiKey(checkedUrl('--server', flag), values, env);
  const fromEnv = env.COMFY_URL?.trim();
  if (!fromEnv) return undefined;
  // The bot accepts a comma-separated list; one CLI run talks to one server.
  if (fromEnv.includes(',')) throw new ArgsError(`COMFY_URL lists several servers ("${fromEnv}"); pick one with --server URL`);
  const entry = backendFromUrl(fromEnv);
  const choice = withApiKey(checkedUrl('COMFY_URL', entry.url), values, env);
  if (!entry.api) return choice;
  return entry.classicUrl !== undefined ? { ...choice, api: entry.api, classicUrl: checkedUrl('COMFY_URL', entry.classicUrl) } : { ...choice, api: entry.api };
}

function withApiKey(url: string, values: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv): ServerChoice {
  const apiKey = values.get('api-key') ?? (env.COMFY_API_KEY?.trim() || undefined);
  return apiKey === undefined ? { url } : { url, apiKey };
}

function checkedUrl(source: string, raw: string): string {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') throw new ArgsError(`${source}: must be an http(s) URL (got "${raw}")`);
  return raw;
}
