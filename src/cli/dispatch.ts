// `comfycord <command> …`: picks the sub-command module and turns its outcome into an exit code.
import { ArgsError } from './args.js';
import type { CliCommand, CliIO } from './io.js';
import { OutputError, watchOutput, type OutputWatch } from './output-watch.js';

export const COMMANDS = {
  start: 'run the Discord bot (needs DISCORD_TOKEN)',
  workflow: 'run a ComfyUI workflow file (API format) and save its outputs',
  run: 'run one command file against ComfyUI, without Discord',
  check: 'check command files and templates (offline, or against a live ComfyUI)',
  import: 'convert a saved ComfyUI workflow (UI or API format) and propose a command for it',
  help: 'show this help',
} as const;

export type CommandName = keyof typeof COMMANDS;

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, what]) => `  ${name.padEnd(width)}  ${what}`);
  return [
    'Usage: comfycord <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run "comfycord <command> --help" for its options. Settings come from environment variables and the file',
    'named by COMFYCORD_CONFIG (see README.md).',
    '',
  ].join('\n');
}

/** The sub-commands that live in their own module, `./<name>.js`. */
export type ModuleName = Exclude<CommandName, 'help'>;

export type ModuleLoader = (name: ModuleName) => Promise<{ run: CliCommand }>;

// A computed specifier: the sub-command modules are written by several people and land at different times, so
// naming them statically would break the type check of whoever lands first.
const importCommand: ModuleLoader = (name) => import(/* @vite-ignore */ `./${name}.js`) as Promise<{ run: CliCommand }>;

function isModuleName(word: string): word is ModuleName {
  return word !== 'help' && Object.hasOwn(COMMANDS, word);
}

/** A failed import of the sub-command module itself, not of something it imports. */
function isMissingModule(error: unknown, name: ModuleName): boolean {
  const { code, url, message } = error as { code?: unknown; url?: unknown; message?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND') return false;
  // Node names the module it could not find in `url`, and first in the message ("… imported from <importer>").
  const missing = typeof url === 'string' ? url : typeof message === 'string' ? /'([^']+)'/.exec(message)?.[1] : undefined;
  return missing !== undefined && missing.endsWith(`/cli/${name}.js`);
}

/**
 * Runs one sub-command. `output` watches io.stdout from before anything is written (even the usage text can meet a
 * closed pipe); a closed stdout ends the command with exit code 0, whatever it was still doing.
 */
export async function dispatch(
  argv: readonly string[],
  io: CliIO,
  load: ModuleLoader = importCommand,
  output: OutputWatch = watchOutput(io.stdout),
): Promise<number> {
  const [word, ...rest] = argv;
  if (word === undefined) {
    io.stderr.write(usage());
    return 2;
  }
  if (word === 'help' || word === '--help' || word === '-h') {
    io.stdout.write(usage());
    return 0;
  }
  if (!isModuleName(word)) {
    io.stderr.write(`comfycord: unknown command "${word}"\n\n${usage()}`);
    return 2;
  }
  let command: CliCommand;
  try {
    command = (await load(word)).run;
  } catch (error) {
    if (!isMissingModule(error, word)) throw error;
    io.stderr.write(`comfycord: the "${word}" command is not part of this build\n`);
    return 1;
  }
  try {
    return await Promise.race([command(rest, io), output.closed]);
  } catch (error) {
    if (error instanceof OutputError) {
      io.stderr.write(`comfycord ${word}: cannot write the output: ${error.message}\n`);
      return 1;
    }
    if (error instanceof ArgsError) {
      io.stderr.write(`comfycord ${word}: ${error.message}\n`);
      return 2;
    }
    // Anything else is a bug: keep the stack so it can be reported.
    io.stderr.write(`comfycord ${word}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}
