// The stall watchdog's setting: `jobs.stallSeconds` in the config file, COMFYCORD_STALL_SECONDS in the
// environment (which wins); absent, the ComfyUI client keeps its own default of 30 s.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'comfycord-settings-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function problems(env: NodeJS.ProcessEnv, cwd = folder()): readonly string[] {
  try {
    loadConfig({ env, cwd });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('the stall watchdog setting', () => {
  it('is absent by default (the client default applies)', () => {
    expect(loadConfig({ env: {}, cwd: folder() }).jobs.stallSeconds).toBeUndefined();
  });

  it('reads the environment, fractions included', () => {
    expect(loadConfig({ env: { COMFYCORD_STALL_SECONDS: '2.5' }, cwd: folder() }).jobs.stallSeconds).toBe(2.5);
  });

  it('reads the config file, and the environment overrides it without touching the other job settings', () => {
    const cwd = folder();
    writeFileSync(join(cwd, 'config.yml'), 'jobs:\n  stallSeconds: 45\n  timeoutSeconds: 600\n');
    expect(loadConfig({ env: { COMFYCORD_CONFIG: 'config.yml' }, cwd }).jobs.stallSeconds).toBe(45);
    const both = loadConfig({ env: { COMFYCORD_CONFIG: 'config.yml', COMFYCORD_STALL_SECONDS: '5' }, cwd });
    expect(both.jobs).toMatchObject({ stallSeconds: 5, timeoutSeconds: 600 });
  });

  it.each([
    ['abc', 'COMFYCORD_STALL_SECONDS: must be a positive number (got "abc")'],
    ['0', 'COMFYCORD_STALL_SECONDS: must be a positive number (got "0")'],
    ['-3', 'COMFYCORD_STALL_SECONDS: must be a positive number (got "-3")'],
  ])('refuses %j from the environment in one line', (raw, line) => {
    expect(problems({ COMFYCORD_STALL_SECONDS: raw })).toEqual([line]);
  });

  it('refuses a bad value in the file, naming the key', () => {
    const cwd = folder();
    writeFileSync(join(cwd, 'config.yml'), 'jobs:\n  stallSeconds: never\n');
    expect(problems({ COMFYCORD_CONFIG: 'config.yml' }, cwd)).toEqual([expect.stringMatching(/^config\.yml jobs\.stallSeconds: must be a positive number/)]);
  });
});
