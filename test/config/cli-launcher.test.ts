import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNode, type NodeExit } from './run-node.js';

// The real launcher, copied into throw-away layouts whose entry points only say which one ran.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'comfycord-launcher-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Layout {
  sources?: boolean;
  dist?: boolean;
  /** node_modules with tsx in it (a checkout after `npm install`), or none (tsx not installed). */
  tsx?: boolean;
}

async function layout(name: string, { sources = false, dist = false, tsx = false }: Layout): Promise<string> {
  const root = path.join(dir, name);
  await mkdir(path.join(root, 'bin'), { recursive: true });
  await copyFile(path.join(ROOT, 'bin', 'comfycord.js'), path.join(root, 'bin', 'comfycord.js'));
  await writeFile(path.join(root, 'package.json'), '{"type": "module"}\n');
  if (sources) {
    await mkdir(path.join(root, 'src', 'cli'), { recursive: true });
    // Type annotations: only runs when tsx compiled it.
    await writeFile(path.join(root, 'src', 'cli', 'index.ts'), "const ran: string = 'sources';\nconsole.log(ran, process.argv.slice(2).join(' '));\n");
  }
  if (dist) {
    await mkdir(path.join(root, 'dist', 'src', 'cli'), { recursive: true });
    await writeFile(path.join(root, 'dist', 'src', 'cli', 'index.js'), "console.log('dist', process.argv.slice(2).join(' '));\n");
  }
  if (tsx) await symlink(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  return root;
}

function launch(root: string): Promise<NodeExit> {
  return runNode(path.join(root, 'bin', 'comfycord.js'), ['check', '--json']);
}

describe('bin/comfycord.js picks what to run', () => {
  it('runs the sources through tsx in a checkout, even when an older dist/ was built', async () => {
    const root = await layout('checkout', { sources: true, dist: true, tsx: true });
    expect(await launch(root)).toEqual({ code: 0, stdout: 'sources check --json\n', stderr: '' });
  });

  it('runs dist/ when tsx is not installed', async () => {
    const root = await layout('no-tsx', { sources: true, dist: true });
    expect(await launch(root)).toEqual({ code: 0, stdout: 'dist check --json\n', stderr: '' });
  });

  it('runs dist/ when there are no sources (the Docker image)', async () => {
    const root = await layout('image', { dist: true, tsx: true });
    expect(await launch(root)).toEqual({ code: 0, stdout: 'dist check --json\n', stderr: '' });
  });

  it('says what is missing when there is nothing it can run', async () => {
    const root = await layout('empty', { sources: true });
    const result = await launch(root);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `comfycord: nothing to run in ${root}: build dist/ with "npm run build", or install tsx to run the TypeScript sources\n`,
    );
  });
});
