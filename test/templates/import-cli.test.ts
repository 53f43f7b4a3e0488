// `comfycord import` in-process: the proposal table, --write producing files the bot loads, the check that follows
// (offline and against the fake ComfyUI), and one clear line per bad input with nothing written.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgsError } from '../../src/cli/args.js';
import { dispatch } from '../../src/cli/dispatch.js';
import { run } from '../../src/cli/import.js';
import { run as runCommand } from '../../src/cli/run.js';
import { memoryIO } from '../../src/cli/io.js';
import { loadCommands } from '../../src/templates/load.js';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/index.js';
import { ROOT } from './support.js';

const FIXTURES = path.join(ROOT, 'test/fixtures/import');
const OBJECT_INFO = path.join(ROOT, 'test/fixtures/comfyui/object_info.json');

let fake: FakeComfy;
let dir: string;

beforeAll(async () => {
  fake = await startFakeComfy({ models: { checkpoints: ['v1-5-pruned-emaonly.safetensors', 'sd15.safetensors'] } });
  dir = await mkdtemp(path.join(tmpdir(), 'comfycord-import-'));
});

afterAll(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

async function importing(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO();
  const code = await run(args, io);
  return { code, out: io.out(), err: io.err() };
}

async function scratch(name: string): Promise<{ commands: string; templates: string; args: string[] }> {
  const commands = path.join(dir, name, 'commands');
  const templates = path.join(dir, name, 'templates');
  return { commands, templates, args: ['--commands-dir', commands, '--templates-dir', templates] };
}

async function listing(folder: string): Promise<string[]> {
  return readdir(folder).catch(() => []);
}

describe('comfycord import', () => {
  it('is a sub-command of comfycord', async () => {
    const io = memoryIO();
    expect(await dispatch(['import', '--help'], io)).toBe(0);
    expect(io.out()).toMatch(/^Usage: comfycord import FILE/);
    const help = memoryIO();
    await dispatch(['help'], help);
    expect(help.out()).toMatch(/^ {2}import +convert a saved ComfyUI workflow/m);
  });

  it('prints the proposal and the template summary, and writes nothing without --write', async () => {
    const where = await scratch('dry');
    const { code, out } = await importing([path.join(FIXTURES, 'img2img.ui.json'), '--object-info', OBJECT_INFO, ...where.args]);
    expect(code).toBe(0);
    expect(out).toContain('Template (converted from the UI format): 8 node(s):');
    expect(out).toMatch(/^option +\| type +\| target +\| default +\| why$/m);
    expect(out).toMatch(/^image \* +\| image +\| Load Image\.image +\| - +\| "Load Image" \(LoadImage\) loads an image$/m);
    expect(out).toMatch(/^seed +\| integer +\| KSampler\.seed +\| random +\|/m);
    expect(out).toMatch(/^denoise +\| number +\| KSampler\.denoise +\| 0\.55 +\|.*latent comes from an image/m);
    expect(out).toMatch(/^model +\| choice +\| Load Checkpoint\.ckpt_name +\| \(template\) +\|/m);
    expect(out).toContain('Nothing written');
    expect(await listing(where.templates)).toEqual([]);
  });

  it('writes a command the bot loads from a shipped template\'s UI twin, and passes check --server', async () => {
    const where = await scratch('twin');
    const { code, out, err } = await importing([path.join(FIXTURES, 'twins/txt2img.ui.json'), '--server', fake.url, '--name', 'painter', '--write', ...where.args]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain(`/painter passes the check (against ${fake.url}).`);
    const written = JSON.parse(await readFile(path.join(where.templates, 'painter.json'), 'utf8'));
    expect(written).toEqual(JSON.parse(await readFile(path.join(ROOT, 'templates/txt2img.json'), 'utf8')));
    const loaded = await loadCommands({ commandsDir: where.commands, templatesDir: where.templates });
    expect(loaded.problems).toEqual([]);
    const command = loaded.commands.get('painter');
    expect(command?.options.map((option) => option.name)).toEqual(['prompt', 'negative', 'seed', 'steps', 'cfg', 'sampler', 'scheduler', 'width', 'height', 'batch', 'model']);
    // And it runs: the imported command through `comfycord run` against the same server.
    const io = memoryIO();
    const outDir = path.join(dir, 'twin-out');
    const ran = await runCommand(['painter', 'prompt=a lighthouse', 'steps=4', '--out', outDir, '--server', fake.url, ...where.args], io);
    expect(ran).toBe(0);
    expect((await readdir(outDir)).some((name) => name.endsWith('.png'))).toBe(true);
  });

  it('exits 1 with one line per problem when the written command fails check --server', async () => {
    const bare = await startFakeComfy({ models: { checkpoints: ['other.safetensors'] } });
    try {
      const where = await scratch('bare');
      const { code, err } = await importing([path.join(FIXTURES, 'twins/txt2img.ui.json'), '--server', bare.url, '--write', ...where.args]);
      expect(code).toBe(1);
      expect(err).toContain(`comfycord import: ${path.join(where.commands, 'txt2img.yaml')}: node 4 ("Load Checkpoint", CheckpointLoaderSimple) input "ckpt_name": "v1-5-pruned-emaonly.safetensors" is not available on the server`);
      expect(err).toContain('/txt2img fails the check');
    } finally {
      await bare.close();
    }
  });

  it('refuses to overwrite existing files', async () => {
    const where = await scratch('twice');
    const source = path.join(FIXTURES, 'twins/resize.ui.json');
    expect((await importing([source, '--object-info', OBJECT_INFO, '--write', ...where.args])).code).toBe(0);
    const again = await importing([source, '--object-info', OBJECT_INFO, '--write', ...where.args]);
    expect(again.code).toBe(1);
    expect(again.err).toContain(`${path.join(where.templates, 'resize.json')} already exists; pick another --name or remove it first`);
  });
});

describe('comfycord import: bad input gets one line each and nothing is written', () => {
  async function refused(name: string, content: string): Promise<string> {
    const where = await scratch(`bad-${name}`);
    const file = path.join(dir, `${name}.json`);
    await writeFile(file, content);
    const { code, out, err } = await importing([file, '--server', fake.url, '--write', ...where.args]);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(await listing(where.templates)).toEqual([]);
    expect(await listing(where.commands)).toEqual([]);
    return err;
  }

  const stock = async (): Promise<Record<string, unknown>> => JSON.parse(await readFile(path.join(FIXTURES, 'stock.ui.json'), 'utf8'));

  it('not JSON', async () => {
    expect(await refused('broken', '{"nodes": [')).toMatch(/: the workflow is not JSON: unexpected end of text at line 1/);
  });

  it('not a workflow', async () => {
    expect(await refused('other', '{"name": "x"}')).toContain('not a ComfyUI workflow');
  });

  it('no output node', async () => {
    const workflow = await stock();
    workflow.nodes = (workflow.nodes as Array<{ type: string }>).filter((node) => node.type !== 'SaveImage');
    expect(await refused('no-output', JSON.stringify(workflow))).toContain('the workflow has no output node');
  });

  it('unknown node classes, each named', async () => {
    const workflow = await stock();
    for (const node of workflow.nodes as Array<{ id: number; type: string }>) if (node.id === 8 || node.id === 5) node.type = `Custom${node.type}`;
    const err = await refused('unknown', JSON.stringify(workflow));
    expect(err).toContain('node 5 (CustomEmptyLatentImage): node class CustomEmptyLatentImage is not on the server');
    expect(err).toContain('node 8 (CustomVAEDecode): node class CustomVAEDecode is not on the server');
  });

  it('more than 25 options', async () => {
    const single = JSON.parse(await readFile(path.join(ROOT, 'templates/txt2img.json'), 'utf8')) as Record<string, { inputs: Record<string, unknown> }>;
    const triple: Record<string, unknown> = {};
    for (const copy of ['a', 'b', 'c']) {
      for (const [id, node] of Object.entries(single)) {
        const inputs = Object.fromEntries(Object.entries(node.inputs).map(([key, value]) => [key, Array.isArray(value) ? [`${copy}${value[0]}`, value[1]] : value]));
        triple[`${copy}${id}`] = { ...node, inputs, _meta: { title: `${copy} ${id}` } };
      }
    }
    expect(await refused('many', JSON.stringify(triple))).toContain('the proposal has 33 options and Discord allows 25');
  });

  it('a bad --name or a missing source of node descriptions is an argument error', async () => {
    await expect(importing([path.join(FIXTURES, 'stock.ui.json'), '--object-info', OBJECT_INFO, '--name', 'Bad Name'])).rejects.toThrow(ArgsError);
    await expect(importing([path.join(FIXTURES, 'stock.ui.json')])).rejects.toThrow(/--server URL \(or set COMFY_URL\) or --object-info FILE/);
  });
});
