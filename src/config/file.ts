// The optional config file named by COMFYCORD_CONFIG: YAML or JSON, chosen by extension, else by content.
import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './errors.js';

export type Settings = Record<string, unknown>;

export function isSettings(value: unknown): value is Settings {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads and parses `path` (resolved against `cwd`); `label` is how error lines name the file. */
export function readConfigFile(path: string, cwd: string, label = path): Settings {
  let text: string;
  try {
    text = readFileSync(resolve(cwd, path), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : String(code ?? error);
    throw new ConfigError([`COMFYCORD_CONFIG: cannot read ${path} (${reason})`]);
  }
  const parsed = parseSettingsText(text, path, label);
  if (parsed === null || parsed === undefined) return {};
  if (!isSettings(parsed)) {
    const got = Array.isArray(parsed) ? 'a list' : JSON.stringify(parsed);
    throw new ConfigError([`${label}: must be a mapping of settings (got ${got})`]);
  }
  return parsed;
}

function parseSettingsText(text: string, path: string, label: string): unknown {
  const ext = extname(path).toLowerCase();
  const asJson = ext === '.json' || (ext !== '.yml' && ext !== '.yaml' && /^\s*[{[]/.test(text));
  try {
    return asJson ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    // Parser messages can span several lines (YAML adds a code excerpt); the first line names the problem and place.
    const first = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw new ConfigError([`${label}: not valid ${asJson ? 'JSON' : 'YAML'}: ${first}`]);
  }
}
