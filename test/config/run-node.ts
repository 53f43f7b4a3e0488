// Runs a script in a child Node the way a user's shell would, for tests of the command-line entry points.
import { spawn } from 'node:child_process';
import { once } from 'node:events';

export interface NodeExit {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunNodeOptions {
  /** Added to an environment that holds only PATH, so the developer's own settings never leak in. */
  env?: NodeJS.ProcessEnv;
  /** Close the child's stdout before it starts: its first write then meets a pipe with no reader (EPIPE). */
  closeStdout?: boolean;
}

export async function runNode(script: string, args: string[], { env = {}, closeStdout = false }: RunNodeOptions = {}): Promise<NodeExit> {
  const child = spawn(process.execPath, [script, ...args], { env: { PATH: process.env.PATH, ...env } });
  if (closeStdout) child.stdout.destroy();
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number];
  return { code, stdout, stderr };
}
