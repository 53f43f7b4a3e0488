import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ArgsError } from '../../src/cli/args.js';
import { dispatch, usage, type ModuleLoader } from '../../src/cli/dispatch.js';
import { memoryIO, type CliIO } from '../../src/cli/io.js';
import { watchOutput } from '../../src/cli/output-watch.js';
import { runNode } from './run-node.js';

const loader =
  (run: (argv: string[]) => Promise<number>): ModuleLoader =>
  async () => ({ run: (argv) => run(argv) });

describe('dispatch', () => {
  it('passes the rest of argv to the sub-command and returns its exit code', async () => {
    const seen: string[][] = [];
    const io = memoryIO();
    const code = await dispatch(['check', '--live', 'x'], io, loader(async (argv) => (seen.push(argv), 3)));
    expect(code).toBe(3);
    expect(seen).toEqual([['--live', 'x']]);
  });

  it('prints help on stdout for help, --help and -h', async () => {
    for (const word of ['help', '--help', '-h']) {
      const io = memoryIO();
      expect(await dispatch([word], io)).toBe(0);
      expect(io.out()).toBe(usage());
    }
    expect(usage()).toMatch(/start .*\n.*workflow .*\n.*run .*\n.*check .*\n.*import .*\n.*help /);
  });

  it('rejects an unknown command with the help on stderr', async () => {
    const io = memoryIO();
    expect(await dispatch(['strat'], io)).toBe(2);
    expect(io.err()).toBe(`comfycord: unknown command "strat"\n\n${usage()}`);
    expect(io.out()).toBe('');
  });

  it('prints help on stderr when no command is given', async () => {
    const io = memoryIO();
    expect(await dispatch([], io)).toBe(2);
    expect(io.err()).toBe(usage());
  });

  it('turns an ArgsError into one line and exit 2', async () => {
    const io = memoryIO();
    const code = await dispatch(['run'], io, loader(async () => Promise.reject(new ArgsError('--out needs a value'))));
    expect(code).toBe(2);
    expect(io.err()).toBe('comfycord run: --out needs a value\n');
  });

  it('reports an unexpected error with its stack and exit 1', async () => {
    const io = memoryIO();
    const code = await dispatch(['run'], io, loader(async () => Promise.reject(new Error('boom'))));
    expect(code).toBe(1);
    expect(io.err()).toMatch(/^comfycord run: Error: boom\n\s+at /);
  });

  it('says so when a sub-command module is missing from the build', async () => {
    const io = memoryIO();
    const missing: ModuleLoader = async () =>
      Promise.reject(
        Object.assign(new Error("Cannot find module '/app/dist/src/cli/workflow.js' imported from /app/dist/src/cli/dispatch.js"), {
          code: 'ERR_MODULE_NOT_FOUND',
        }),
      );
    expect(await dispatch(['workflow'], io, missing)).toBe(1);
    expect(io.err()).toBe('comfycord: the "workflow" command is not part of this build\n');
  });

  it('does not hide a missing dependency of a sub-command', async () => {
    const message = "Cannot find module '/app/dist/src/cli/gone.js' imported from /app/dist/src/cli/workflow.js";
    const broken: ModuleLoader = async () =>
      Promise.reject(Object.assign(new Error(message), { code: 'ERR_MODULE_NOT_FOUND', url: 'file:///app/dist/src/cli/gone.js' }));
    await expect(dispatch(['workflow'], memoryIO(), broken)).rejects.toThrow(message);
    const noUrl: ModuleLoader = async () => Promise.reject(Object.assign(new Error(message), { code: 'ERR_MODULE_NOT_FOUND' }));
    await expect(dispatch(['workflow'], memoryIO(), noUrl)).rejects.toThrow(message);
  });
});

describe('dispatch with a stdout that closes', () => {
  /** A stream-like stdout whose write failures the test raises, as process.stdout reports them. */
  function pipeIO(): CliIO & { stdout: EventEmitter & { write(text: string): boolean }; err(): string } {
    const base = memoryIO();
    const stdout = Object.assign(new EventEmitter(), { write: (_text: string) => true });
    return { ...base, stdout };
  }
  const writeError = (code: string) => Object.assign(new Error(`write ${code}`), { code, errno: -32, syscall: 'write' });

  it('ends a command still running with exit 0 and no message when the reader goes away (| head)', async () => {
    const io = pipeIO();
    const watch = watchOutput(io.stdout);
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const pending = dispatch(['workflow'], io, loader(async () => (started(), new Promise<number>(() => {}))), watch);
    await running;
    expect(watch.readerGone).toBe(false);
    io.stdout.emit('error', writeError('EPIPE'));
    expect(await pending).toBe(0);
    expect(watch.readerGone).toBe(true);
    expect(io.err()).toBe('');
  });

  it('keeps swallowing EPIPE after the command has returned, so late writes cannot crash the process', async () => {
    const io = pipeIO();
    expect(await dispatch(['check'], io, loader(async () => 1))).toBe(1);
    // With no listener, EventEmitter throws an 'error' it emits: that was the unhandled EPIPE crash.
    expect(() => io.stdout.emit('error', writeError('EPIPE'))).not.toThrow();
    expect(() => new EventEmitter().emit('error', writeError('EPIPE'))).toThrow('write EPIPE');
  });

  it('reports any other write failure of stdout in one line, exit 1', async () => {
    const io = pipeIO();
    const pending = dispatch(['run'], io, loader(() => new Promise<number>(() => {})));
    io.stdout.emit('error', writeError('EIO'));
    expect(await pending).toBe(1);
    expect(io.err()).toBe('comfycord run: cannot write the output: write EIO\n');
  });
});

describe('bin/comfycord.js', () => {
  const bin = fileURLToPath(new URL('../../bin/comfycord.js', import.meta.url));

  it('start without DISCORD_TOKEN: one line, exit 2', async () => {
    const result = await runNode(bin, ['start']);
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'comfycord: DISCORD_TOKEN is not set — create a bot at https://discord.com/developers/applications and run DISCORD_TOKEN=... npm start\n',
    });
  });

  it('start with a config mistake: the lines, exit 2', async () => {
    const result = await runNode(bin, ['start'], { env: { COMFY_URL: 'localhost:8188', LOG_LEVEL: 'loud' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'comfycord: COMFY_URL: must be an http(s) URL (got "localhost:8188")\n' +
        'comfycord: LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")\n',
    );
  });

  it('an unknown command: exit 2', async () => {
    const result = await runNode(bin, ['bogus']);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe('comfycord: unknown command "bogus"');
  });

  it('help into a pipe whose reader has gone: no EPIPE crash, exit 0', async () => {
    const result = await runNode(bin, ['help'], { closeStdout: true });
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});
