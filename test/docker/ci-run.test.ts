// .ci/run against stand-in npm/npx commands (no install, no real test run): the order of the steps, the
// summary line and the exit code.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ciRun = fileURLToPath(new URL('../../.ci/run', import.meta.url));

/**
 * A checkout with .ci/run and fake npm/npx/apt-get that log their arguments; `npm test` writes `report` (if
 * any). PostgreSQL's binaries are there (a stand-in initdb) unless `noPostgres`.
 */
function sandbox(options: { report?: object; testExit: number; tscExit?: number; noPostgres?: boolean }) {
  const root = mkdtempSync(join(tmpdir(), 'comfycord-ci-'));
  const bin = join(root, 'fake-bin');
  mkdirSync(join(root, '.ci'));
  mkdirSync(bin);
  copyFileSync(ciRun, join(root, '.ci', 'run'));
  const log = join(root, 'calls.log');
  const report = options.report === undefined ? '' : `echo '${JSON.stringify(options.report)}' > .vitest-report.json`;
  const fake = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/usr/bin/env bash\necho "${name} $*" >> '${log}'\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  fake('npm', `if [[ $1 == test ]]; then ${report || ':'}; exit ${options.testExit}; fi`);
  fake('npx', `exit ${options.tscExit ?? 0}`);
  fake('apt-get', 'exit 0');
  const pgRoot = join(root, 'postgresql');
  mkdirSync(join(pgRoot, '15', 'bin'), { recursive: true });
  if (!options.noPostgres) writeFileSync(join(pgRoot, '15', 'bin', 'initdb'), '');
  return { root, bin, pgRoot, calls: () => readFileSync(log, 'utf8').trim().split('\n') };
}

async function run(box: ReturnType<typeof sandbox>) {
  const child = spawn('bash', [join(box.root, '.ci', 'run')], {
    env: { PATH: `${box.bin}:${process.env.PATH}`, COMFYCORD_PG_ROOT: box.pgRoot },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number];
  return { code, stdout };
}

describe('.ci/run', () => {
  it('installs, type-checks, tests with the JSON report and prints one summary line', async () => {
    const box = sandbox({ report: { numPassedTests: 41, numFailedTests: 0 }, testExit: 0 });
    const result = await run(box);
    expect(result).toEqual({ code: 0, stdout: '41 passed, 0 failed\n' });
    expect(box.calls()).toEqual([
      'npm ci --no-audit --no-fund',
      'npx tsc --noEmit -p tsconfig.json',
      'npm test -- --reporter=default --reporter=json --outputFile=.vitest-report.json',
    ]);
  });

  it("installs Debian's PostgreSQL first when its binaries are missing", async () => {
    const box = sandbox({ report: { numPassedTests: 1, numFailedTests: 0 }, testExit: 0, noPostgres: true });
    expect((await run(box)).code).toBe(0);
    expect(box.calls().slice(0, 3)).toEqual([
      'apt-get update -qq',
      'apt-get install -y --no-install-recommends postgresql',
      'npm ci --no-audit --no-fund',
    ]);
  });

  it("keeps vitest's exit code when tests fail", async () => {
    const result = await run(sandbox({ report: { numPassedTests: 3, numFailedTests: 2 }, testExit: 1 }));
    expect(result).toEqual({ code: 1, stdout: '3 passed, 2 failed\n' });
  });

  it('says so, and fails, when vitest left no report', async () => {
    const result = await run(sandbox({ testExit: 0 }));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('no test report (.vitest-report.json: ENOENT); vitest exited 0\n');
  });

  it('stops before the tests when the type check fails', async () => {
    const box = sandbox({ report: { numPassedTests: 1, numFailedTests: 0 }, testExit: 0, tscExit: 2 });
    const result = await run(box);
    expect(result.code).toBe(2);
    expect(box.calls()).toHaveLength(2);
  });
});
