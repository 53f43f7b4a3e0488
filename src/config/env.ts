// Environment variables → a partial config input, remembering which variable set which path so that a
// validation problem is reported against the variable the user actually wrote.
import type { Settings } from './file.js';

export type Path = readonly (string | number)[];

/** Where a value in the merged input came from: the env var name and the raw text it held. */
export interface EnvOrigin {
  path: Path;
  name: string;
  raw: string;
}

export interface EnvSettings {
  settings: Settings;
  /** Backends built from COMFY_URL (or its default); used only when the file gives none. */
  backends: Settings[];
  origins: EnvOrigin[];
}

export const DEFAULT_COMFY_URL = 'http://127.0.0.1:8188';

/** Simple string settings: env var → config path. */
const STRING_VARS: ReadonlyArray<readonly [string, Path]> = [
  ['DISCORD_TOKEN', ['discord', 'token']],
  ['DISCORD_API_URL', ['discord', 'apiUrl']],
  ['DISCORD_GUILD_ID', ['discord', 'guildId']],
  ['COMFYCORD_COMMANDS_DIR', ['commandsDir']],
  ['COMFYCORD_TEMPLATES_DIR', ['templatesDir']],
  ['COMFYCORD_DATA_DIR', ['dataDir']],
  ['COMFYCORD_DATABASE_URL', ['databaseUrl']],
  ['LOG_LEVEL', ['logLevel']],
];

/** Comma-separated lists: env var → config path. */
const LIST_VARS: ReadonlyArray<readonly [string, Path]> = [
  ['COMFYCORD_MODERATOR_ROLES', ['discord', 'moderatorRoles']],
  ['COMFYCORD_OPERATOR_IDS', ['discord', 'operatorIds']],
  ['COMFYCORD_ALLOWED_GUILDS', ['discord', 'allowedGuilds']],
];

/** An empty variable (`FOO=` in a compose file) means "not set". */
function read(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function commaList(raw: string): string[] {
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function setPath(target: Settings, path: Path, value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key] ?? {};
    node[key] = next;
    node = next as Settings;
  }
  node[path[path.length - 1] as string] = value;
}

export function readEnv(env: NodeJS.ProcessEnv): EnvSettings {
  const settings: Settings = {};
  const origins: EnvOrigin[] = [];
  const set = (name: string, path: Path, value: unknown, raw: string): void => {
    setPath(settings, path, value);
    origins.push({ path, name, raw });
  };

  for (const [name, path] of STRING_VARS) {
    const raw = read(env, name);
    if (raw !== undefined) set(name, path, raw, raw);
  }
  const port = read(env, 'COMFYCORD_HTTP_PORT');
  // Not a number → left as text so the schema reports it against the variable, with what was given.
  if (port !== undefined) set('COMFYCORD_HTTP_PORT', ['http', 'port'], /^\d+$/.test(port) ? Number(port) : port, port);
  const stall = read(env, 'COMFYCORD_STALL_SECONDS');
  if (stall !== undefined) set('COMFYCORD_STALL_SECONDS', ['jobs', 'stallSeconds'], /^\d+(\.\d+)?$/.test(stall) ? Number(stall) : stall, stall);

  const shards = read(env, 'COMFYCORD_SHARDS');
  if (shards !== undefined) set('COMFYCORD_SHARDS', ['cluster', 'shards'], commaList(shards).map((s) => (/^\d+$/.test(s) ? Number(s) : s)), shards);
  const shardCount = read(env, 'COMFYCORD_SHARD_COUNT');
  if (shardCount !== undefined) set('COMFYCORD_SHARD_COUNT', ['cluster', 'shardCount'], /^\d+$/.test(shardCount) ? Number(shardCount) : shardCount, shardCount);
  const lease = read(env, 'COMFYCORD_LEASE_SECONDS');
  if (lease !== undefined) set('COMFYCORD_LEASE_SECONDS', ['cluster', 'leaseSeconds'], /^\d+(\.\d+)?$/.test(lease) ? Number(lease) : lease, lease);

  for (const [name, path] of LIST_VARS) {
    const raw = read(env, name);
    if (raw !== undefined) set(name, path, commaList(raw), raw);
  }

  const urlList = read(env, 'COMFY_URL') ?? DEFAULT_COMFY_URL;
  const urls = commaList(urlList);
  origins.push({ path: ['backends'], name: 'COMFY_URL', raw: urlList });
  const apiKey = read(env, 'COMFY_API_KEY');
  const backends = urls.map((url, index): Settings => {
    const entry = backendFromUrl(url);
    origins.push({ path: ['backends', index, 'url'], name: 'COMFY_URL', raw: url });
    if (entry.classicUrl !== undefined) origins.push({ path: ['backends', index, 'classicUrl'], name: 'COMFY_URL', raw: url });
    if (apiKey !== undefined) origins.push({ path: ['backends', index, 'apiKey'], name: 'COMFY_API_KEY', raw: apiKey });
    return { name: `comfy-${index + 1}`, ...entry, ...(apiKey !== undefined ? { apiKey } : {}) };
  });
  return { settings, backends, origins };
}

/**
 * One COMFY_URL entry: a ComfyUI URL, or `v2:<url>` for a Comfy API v2 endpoint, optionally followed by
 * `|<url>` naming the ComfyUI behind it (discovery and interrupt fallback), e.g.
 * `v2:http://127.0.0.1:8189|http://127.0.0.1:8188` or `v2:https://cloud.comfy.org`.
 */
export function backendFromUrl(entry: string): { url: string; api?: 'v2'; classicUrl?: string } {
  if (!entry.startsWith('v2:')) return { url: entry };
  const [url = '', classicUrl] = entry.slice(3).split('|');
  return classicUrl === undefined ? { url, api: 'v2' } : { url, api: 'v2', classicUrl };
}
