// What a sub-command may touch of the outside world, so each one can be run in-process by tests.

/** Anything text can be written to (process.stdout, a socket, a test buffer). */
export interface TextOutput {
  write(text: string): unknown;
}

export interface CliIO {
  stdout: TextOutput;
  stderr: TextOutput;
  /** Whether stdout is a terminal: human-readable output instead of JSON lines. */
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

/** Every sub-command module (`src/cli/<name>.ts`) exports this; the number is the process exit code. */
export type CliCommand = (argv: string[], io: CliIO) => Promise<number>;

export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, isTTY: Boolean(process.stdout.isTTY), env: process.env };
}

/** An in-memory CliIO whose output is read back as strings (tests). */
export function memoryIO(env: NodeJS.ProcessEnv = {}, isTTY = false): CliIO & { out(): string; err(): string } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout: { write: (text: string) => stdout.push(text) },
    stderr: { write: (text: string) => stderr.push(text) },
    isTTY,
    env,
    out: () => stdout.join(''),
    err: () => stderr.join(''),
  };
}
