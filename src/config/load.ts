// Configuration = defaults ← config file (COMFYCORD_CONFIG) ← environment, validated once by the zod schema.
import { basename, resolve } from 'node:path';
import { configSchema, type Config } from './schema.js';
import { ConfigError } from './errors.js';
import { readEnv } from './env.js';
import { formatIssue } from './format.js';
import { isSettings, readConfigFile, type Settings } from './file.js';

export { ConfigError } from './errors.js';

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** Relative paths (the config file, commands/templates/data dirs) resolve against this. */
  cwd?: string;
}

/** Deep merge of plain mappings; `over` wins, lists are replaced whole. */
function merge(base: Settings, over: Settings): Settings {
  const out: Settings = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isSettings(current) && isSettings(value) ? merge(current, value) : value;
  }
  return out;
}

/** Throws ConfigError listing every problem, one line each. DISCORD_TOKEN is not required here (see cli/start). */
export function loadConfig({ env = process.env, cwd = process.cwd() }: LoadConfigOptions = {}): Config {
  const filePath = env.COMFYCORD_CONFIG?.trim() || undefined;
  const fileLabel = filePath === undefined ? undefined : basename(filePath);
  const file = filePath === undefined ? {} : readConfigFile(filePath, cwd, fileLabel);
  const fromEnv = readEnv(env);

  // The file's backend list is the more precise statement, so it beats COMFY_URL (which always has a default);
  // anything but an empty list is the file's to get right, and the schema reports it against the file.
  const fileHasBackends = file.backends !== undefined && !(Array.isArray(file.backends) && file.backends.length === 0);
  const input = merge(file, fromEnv.settings);
  if (!fileHasBackends) input.backends = fromEnv.backends;
  const origins = fileHasBackends ? fromEnv.origins.filter((o) => o.path[0] !== 'backends') : fromEnv.origins;

  const result = configSchema.safeParse(input);
  if (!result.success) {
    const sources = fileLabel === undefined ? { origins } : { origins, fileLabel };
    throw new ConfigError(result.error.issues.flatMap((issue) => formatIssue(issue, input, sources)));
  }
  const config = result.data;
  return {
    ...config,
    commandsDir: resolve(cwd, config.commandsDir),
    templatesDir: resolve(cwd, config.templatesDir),
    dataDir: resolve(cwd, config.dataDir),
  };
}

/** A Comfy Cloud backend is one with an API key. */
export function isCloudBackend(backend: Config['backends'][number]): boolean {
  return backend.apiKey !== undefined;
}
