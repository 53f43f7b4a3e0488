// Finding PostgreSQL's server binaries for the tests: a clear one-line failure when they are not installed.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findPgBin } from './server.js';

const saved = { bin: process.env.COMFYCORD_PG_BIN, root: process.env.COMFYCORD_PG_ROOT };
let dir = '';
afterEach(() => {
  for (const [name, value] of [['COMFYCORD_PG_BIN', saved.bin], ['COMFYCORD_PG_ROOT', saved.root]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('findPgBin', () => {
  it("picks the newest version in Debian's layout, and fails in one line when there is none", () => {
    dir = mkdtempSync(join(tmpdir(), 'comfycord-pgroot-'));
    delete process.env.COMFYCORD_PG_BIN;
    process.env.COMFYCORD_PG_ROOT = dir;
    expect(() => findPgBin()).toThrow(
      /^PostgreSQL is not installed: the store tests need its server binaries \(apt-get install postgresql, or set COMFYCORD_PG_BIN\)$/,
    );
    for (const version of ['9.6', '15', '13']) {
      mkdirSync(join(dir, version, 'bin'), { recursive: true });
      writeFileSync(join(dir, version, 'bin', 'initdb'), '');
    }
    mkdirSync(join(dir, '17', 'bin'), { recursive: true }); // no initdb: not a server install
    expect(findPgBin()).toBe(join(dir, '15', 'bin'));
    process.env.COMFYCORD_PG_BIN = '/opt/pg/bin';
    expect(findPgBin()).toBe('/opt/pg/bin');
  });
});
