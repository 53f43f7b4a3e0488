import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryIO } from '../../src/cli/io.js';
import { HARD_EXIT_MS, MISSING_TOKEN, run, type RunningApp, type StartDeps } from '../../src/cli/start.js';
import { silentLogger } from '../../src/config/logger.js';
import type { Config } from '../../src/config/schema.js';

class StartupError extends Error {
  override readonly name = 'StartupError';
}

function fakeDeps(startApp: StartDeps['startApp']) {
  const signals = new EventEmitter();
  const exits: number[] = [];
  const deps: StartDeps = { startApp, createLogger: () => silentLogger, signals, exit: (code) => void exits.push(code) };
  return { deps, signals, exits };
}

/** An app whose stop() resolves only when the test says so. */
function controllableApp() {
  let finishStop!: () => void;
  let failStop!: (error: Error) => void;
  const stopCalled = vi.fn();
  const app: RunningApp = {
    stop: () => {
      stopCalled();
      return new Promise<void>((resolve, reject) => {
        finishStop = resolve;
        failStop = reject;
      });
    },
  };
  return { app, stopCalled, finishStop: () => finishStop(), failStop: (e: Error) => failStop(e) };
}

const withToken = { DISCORD_TOKEN: 't' };

afterEach(() => {
  vi.useRealTimers();
});

describe('comfycord start', () => {
  it('prints each configuration mistake prefixed, exit 2, app never started', async () => {
    const startApp = vi.fn();
    const io = memoryIO({ ...withToken, COMFY_URL: 'localhost:8188', DISCORD_GUILD_ID: 'x' });
    expect(await run([], io, fakeDeps(startApp).deps)).toBe(2);
    expect(io.err()).toBe(
      'comfycord: DISCORD_GUILD_ID: must be a Discord snowflake (digits) (got "x")\n' +
        'comfycord: COMFY_URL: must be an http(s) URL (got "localhost:8188")\n',
    );
    expect(startApp).not.toHaveBeenCalled();
  });

  it('requires DISCORD_TOKEN with one line, exit 2', async () => {
    const startApp = vi.fn();
    const io = memoryIO({});
    expect(await run([], io, fakeDeps(startApp).deps)).toBe(2);
    expect(io.err()).toBe(`${MISSING_TOKEN}\n`);
    expect(io.err().split('\n')).toHaveLength(2);
    expect(startApp).not.toHaveBeenCalled();
  });

  it('prints a StartupError as one line without a stack, exit 1', async () => {
    const io = memoryIO(withToken);
    const { deps } = fakeDeps(async () => Promise.reject(new StartupError('ComfyUI at http://127.0.0.1:8188 is unreachable')));
    expect(await run([], io, deps)).toBe(1);
    expect(io.err()).toBe('comfycord: ComfyUI at http://127.0.0.1:8188 is unreachable\n');
  });

  it('lets any other start-up error through (a bug: the dispatcher prints its stack)', async () => {
    const { deps } = fakeDeps(async () => Promise.reject(new TypeError('x is undefined')));
    await expect(run([], memoryIO(withToken), deps)).rejects.toThrow(TypeError);
  });

  it('passes the loaded configuration to the app', async () => {
    let seen: Config | undefined;
    const { deps, signals } = fakeDeps(async (config) => {
      seen = config;
      return { stop: async () => undefined };
    });
    const done = run([], memoryIO({ ...withToken, COMFY_URL: 'http://gpu:8188' }), deps);
    await vi.waitFor(() => expect(seen).toBeDefined());
    signals.emit('SIGINT', 'SIGINT');
    expect(await done).toBe(0);
    expect(seen?.discord.token).toBe('t');
    expect(seen?.backends[0]?.url).toBe('http://gpu:8188');
  });

  it.each(['SIGTERM', 'SIGINT'])('on %s calls stop() and exits 0, removing its listeners', async (signal) => {
    const control = controllableApp();
    const { deps, signals, exits } = fakeDeps(async () => control.app);
    const done = run([], memoryIO(withToken), deps);
    await vi.waitFor(() => expect(signals.listenerCount(signal)).toBe(1));
    signals.emit(signal, signal);
    expect(control.stopCalled).toHaveBeenCalledTimes(1);
    control.finishStop();
    expect(await done).toBe(0);
    expect(exits).toEqual([]);
    expect(signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT')).toBe(0);
  });

  it('exits 1 when stop() fails', async () => {
    const control = controllableApp();
    const { deps, signals } = fakeDeps(async () => control.app);
    const done = run([], memoryIO(withToken), deps);
    await vi.waitFor(() => expect(signals.listenerCount('SIGTERM')).toBe(1));
    signals.emit('SIGTERM', 'SIGTERM');
    control.failStop(new Error('db locked'));
    expect(await done).toBe(1);
  });

  it('forces exit 1 when stop() hangs past the hard limit', async () => {
    vi.useFakeTimers();
    const control = controllableApp();
    const { deps, signals, exits } = fakeDeps(async () => control.app);
    void run([], memoryIO(withToken), deps);
    await vi.waitFor(() => expect(signals.listenerCount('SIGTERM')).toBe(1));
    signals.emit('SIGTERM', 'SIGTERM');
    vi.advanceTimersByTime(HARD_EXIT_MS - 1);
    expect(exits).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(exits).toEqual([1]);
  });

  it('forces exit at once on a second signal while stopping', async () => {
    const control = controllableApp();
    const { deps, signals, exits } = fakeDeps(async () => control.app);
    void run([], memoryIO(withToken), deps);
    await vi.waitFor(() => expect(signals.listenerCount('SIGTERM')).toBe(1));
    signals.emit('SIGTERM', 'SIGTERM');
    signals.emit('SIGINT', 'SIGINT');
    expect(exits).toEqual([1]);
    expect(control.stopCalled).toHaveBeenCalledTimes(1);
  });

  it('prints its help', async () => {
    const io = memoryIO({});
    expect(await run(['--help'], io, fakeDeps(vi.fn()).deps)).toBe(0);
    expect(io.out()).toMatch(/^Usage: comfycord start\n/);
  });
});
