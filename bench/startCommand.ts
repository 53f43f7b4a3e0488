// How `npm start` runs the bot: package.json's "start" script is `[VAR=value …] node [--flag …] SCRIPT [arg …]`.
// The bench starts the bot under test with the same environment and node flags, on tsc's output, so the figures
// are those of the shipped start path (the Dockerfile's ENV and CMD are pinned to the same script by test/docker).
import { readFileSync } from 'node:fs';

export interface StartCommand {
  /** Variables the script sets before node starts (e.g. glibc's MALLOC_ARENA_MAX, read once at process start). */
  env: Record<string, string>;
  nodeFlags: string[];
  script: string;
  args: string[];
}

export class StartCommandError extends Error {
  override name = 'StartCommandError';
}

/** Only plain words: the script must read the same under sh, the Dockerfile's exec form and this parser. */
export function parseStartCommand(command: string): StartCommand {
  if (/["'`$\\;&|<>(){}]/.test(command)) throw new StartCommandError(`the start script must be plain words (no quotes, expansions or operators): ${command}`);
  const words = command.trim().split(/\s+/);
  const env: Record<string, string> = {};
  let i = 0;
  for (let assignment: RegExpExecArray | null; (assignment = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(words[i] ?? '')); i++) {
    env[assignment[1]!] = assignment[2]!;
  }
  if (words[i] !== 'node') throw new StartCommandError(`the start script must run node (after any VAR=value), not "${words[i] ?? ''}": ${command}`);
  i++;
  const nodeFlags: string[] = [];
  for (; words[i]?.startsWith('-'); i++) nodeFlags.push(words[i]!);
  const script = words[i];
  if (script === undefined) throw new StartCommandError(`the start script names no script for node to run: ${command}`);
  return { env, nodeFlags, script, args: words.slice(i + 1) };
}

/** The repository's `npm start`. */
export function readStartCommand(packageJsonPath: string): StartCommand {
  const pkg = JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { scripts?: Record<string, string> };
  const start = pkg.scripts?.['start'];
  if (start === undefined) throw new StartCommandError(`${packageJsonPath} has no "start" script`);
  return parseStartCommand(start);
}
