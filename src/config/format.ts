// A zod issue → "<where>: <what is wrong> (got <value>)", where <where> is the env var or "<file> <key path>".
import type { z } from 'zod';
import type { EnvOrigin, Path } from './env.js';

export interface Sources {
  origins: readonly EnvOrigin[];
  /** How lines name the config file, when there is one. */
  fileLabel?: string;
}

/** Values under these keys are secrets: never echoed back in an error line. */
const SECRET_KEYS = new Set(['token', 'apiKey', 'databaseUrl']);

function pathToString(path: Path): string {
  return path.reduce<string>(
    (text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${key}` : key),
    '',
  );
}

function startsWith(path: Path, prefix: Path): boolean {
  return prefix.length <= path.length && prefix.every((key, i) => path[i] === key);
}

function valueAt(input: unknown, path: Path): unknown {
  let node = input;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'a mapping';
  return JSON.stringify(value);
}

function reason(issue: z.core.$ZodIssue, given: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      if (given === undefined) return 'is required';
      // Custom messages from the schema already read as English; zod's defaults start with "Invalid".
      return issue.message.startsWith('Invalid') ? `must be ${article(issue.expected)}` : issue.message;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'too_small':
      if (issue.message.startsWith('Too small') && issue.origin === 'string') return 'must not be empty';
      return issue.message;
    default:
      return issue.message;
  }
}

function article(expected: string): string {
  const noun = expected === 'object' ? 'mapping' : expected === 'array' ? 'list' : expected;
  return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}

/** One line per problem; an unknown-keys issue yields one line per key. */
export function formatIssue(issue: z.core.$ZodIssue, input: unknown, sources: Sources): string[] {
  const path = issue.path as Path;
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${where([...path, key], sources)}: unknown setting`);
  }
  const origin = findOrigin(path, sources.origins);
  const given = origin && origin.path.length === path.length ? origin.raw : valueAt(input, path);
  const secret = path.some((key) => typeof key === 'string' && SECRET_KEYS.has(key));
  const shown = given === undefined || secret ? '' : ` (got ${describeValue(given)})`;
  return [`${origin ? origin.name : where(path, sources)}: ${reason(issue, given)}${shown}`];
}

function findOrigin(path: Path, origins: readonly EnvOrigin[]): EnvOrigin | undefined {
  return origins
    .filter((origin) => startsWith(path, origin.path))
    .sort((a, b) => b.path.length - a.path.length)[0];
}

function where(path: Path, sources: Sources): string {
  const key = pathToString(path) || '(top level)';
  return sources.fileLabel ? `${sources.fileLabel} ${key}` : key;
}
