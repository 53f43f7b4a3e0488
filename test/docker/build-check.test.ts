// Runs the image's build steps for real (scripts/docker-build-check.sh): slow-ish, since it copies and prunes
// the installed dependency tree and compiles dist/.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../scripts/docker-build-check.sh', import.meta.url));

async function runScript(args: string[]) {
  const child = spawn('bash', [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number];
  return { code, output };
}

describe('scripts/docker-build-check.sh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'comfycord-docker-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('needs the scratch directory', async () => {
    const result = await runScript([]);
    expect(result.code).toBe(2);
    expect(result.output).toMatch(/^usage: scripts\/docker-build-check\.sh DIR/);
  });

  it('builds the image tree and passes every check', { timeout: 600_000 }, async () => {
    const result = await runScript([dir]);
    expect(result.output).toContain('==> ok: the image\'s steps pass');
    expect(result.output).toContain('200 {"ok":true');
    expect(result.output).toContain('503 {"ok":false');
    expect(result.code).toBe(0);
  });
});
