// The one argv grammar every sub-command shares: `--name value`, `--name=value`, `--flag`, `key=value` pairs,
// positionals, and `--` to end options. Each sub-command declares which options it knows, so typos fail loudly.

export interface ArgSpec {
  /** Options that take a value: `--out file` or `--out=file`. */
  values?: readonly string[];
  /** Options that take none: `--json`. */
  flags?: readonly string[];
  /** Whether `key=value` words are collected as pairs (else they are positionals). */
  pairs?: boolean;
}

export interface ParsedArgs {
  values: ReadonlyMap<string, string>;
  flags: ReadonlySet<string>;
  /** `key=value` words, in order; a key may repeat only once per call, so it is a map. */
  pairs: ReadonlyMap<string, string>;
  positional: readonly string[];
}

/** A mistake on the command line; the message is one line meant for the user. */
export class ArgsError extends Error {
  override readonly name = 'ArgsError';
}

const PAIR = /^([A-Za-z_][\w.-]*)=(.*)$/s;

export function parseArgs(argv: readonly string[], spec: ArgSpec = {}): ParsedArgs {
  const valueNames = new Set(spec.values ?? []);
  const flagNames = new Set(spec.flags ?? []);
  const values = new Map<string, string>();
  const flags = new Set<string>();
  const pairs = new Map<string, string>();
  const positional: string[] = [];

  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const name = word.slice(2, eq === -1 ? undefined : eq);
      if (valueNames.has(name)) {
        if (values.has(name)) throw new ArgsError(`--${name} is given twice`);
        const value = eq === -1 ? argv[++i] : word.slice(eq + 1);
        if (value === undefined || (eq === -1 && value.startsWith('--'))) throw new ArgsError(`--${name} needs a value`);
        values.set(name, value);
      } else if (flagNames.has(name)) {
        if (eq !== -1) throw new ArgsError(`--${name} takes no value (got "${word.slice(eq + 1)}")`);
        flags.add(name);
      } else {
        throw new ArgsError(`unknown option --${name}${known(valueNames, flagNames)}`);
      }
      continue;
    }
    const pair = spec.pairs ? PAIR.exec(word) : null;
    if (pair) {
      const [, key, value] = pair as unknown as [string, string, string];
      if (pairs.has(key)) throw new ArgsError(`${key}= is given twice`);
      pairs.set(key, value);
    } else if (spec.pairs && word.startsWith('=')) {
      throw new ArgsError(`"${word}" has no name before "="`);
    } else {
      positional.push(word);
    }
  }
  return { values, flags, pairs, positional };
}

function known(valueNames: ReadonlySet<string>, flagNames: ReadonlySet<string>): string {
  const names = [...valueNames, ...flagNames].map((name) => `--${name}`);
  return names.length === 0 ? ' (this command takes no options)' : ` (known: ${names.join(', ')})`;
}
