import { mkdtemp, rm, writeFile, mkdir, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgsError } from '../../src/cli/args.js';
import { run, type CheckResult } from '../../src/cli/check.js';
import { memoryIO } from '../../src/cli/io.js';
import { loadCommands } from '../../src/templates/load.js';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/index.js';
import { closedPort, ROOT } from './support.js';

const shipped = ['--commands-dir', path.join(ROOT, 'commands'), '--templates-dir', path.join(ROOT, 'templates')];
// The shipped templates name the stock SD 1.5 checkpoint and a common upscale model; this backend has both.
const MODELS = { checkpoints: ['v1-5-pruned-emaonly.safetensors', 'sdxl.safetensors'], upscale_models: ['4x-UltraSharp.pth'] };

let fake: FakeComfy;
let dir: string;

beforeAll(async () => {
  fake = await startFakeComfy({ models: MODELS });
  dir = await mkdtemp(path.join(tmpdir(), 'comfycord-check-'));
});

afterAll(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

async function check(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO();
  const code = await run(args, io);
  return { code, out: io.out(), err: io.err() };
}

describe('comfycord check', () => {
  it('passes the shipped commands offline', async () => {
    const { code, out } = await check(shipped);
    expect(out).toMatch(/^command +\| status \| problems\n/);
    for (const name of ['imagine', 'reimagine', 'upscale', 'resize', 'outpaint', 'zoom15', 'zoom2', 'blend']) expect(out).toMatch(new RegExp(`^${name} +\\| ok +\\| -$`, 'm'));
    expect(out).toContain('All 8 command(s) pass (offline).');
    expect(code).toBe(0);
  });

  it('passes the shipped commands against the fake ComfyUI', async () => {
    const { code, out } = await check([...shipped, '--server', fake.url]);
    expect(out).toContain(`All 8 command(s) pass (against ${fake.url}).`);
    expect(code).toBe(0);
    // Each class is asked for once however many commands use it.
    const asked = fake.requests.filter((request) => request.path.endsWith('/object_info/KSampler'));
    expect(asked).toHaveLength(1);
  });

  it('passes the shipped commands on a server whose only models have other names, and says which each uses', async () => {
    const other = await startFakeComfy({ models: { checkpoints: ['other_model.safetensors'], upscale_models: ['2x-other.pth'] } });
    try {
      const { code, out } = await check([...shipped, '--server', other.url]);
      expect(out).toContain(`All 8 command(s) pass (against ${other.url}).`);
      expect(code).toBe(0);
      expect(out).toContain(`Models used on ${other.url} when a member picks none:`);
      for (const name of ['imagine', 'reimagine', 'outpaint', 'blend', 'zoom15', 'zoom2']) {
        expect(out).toContain(`  ${name}: model → other_model.safetensors (first listed; none of v1-5-pruned-emaonly.safetensors, v1-5-pruned-emaonly-fp16.safetensors present)`);
      }
      expect(out).toContain('  upscale: model → 2x-other.pth (first listed; none of 4x-UltraSharp.pth, RealESRGAN_x4plus.pth present)');
      const json = await check([...shipped, '--server', other.url, '--json']);
      const results = JSON.parse(json.out) as CheckResult[];
      expect(results.find((result) => result.command === 'imagine')?.uses).toEqual([
        { option: 'model', value: 'other_model.safetensors', reason: 'first listed; none of v1-5-pruned-emaonly.safetensors, v1-5-pruned-emaonly-fp16.safetensors present' },
      ]);
      expect(results.find((result) => result.command === 'resize')?.uses).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('says a preferred model is used where the server has it', async () => {
    const { out } = await check([...shipped, '--server', fake.url]);
    expect(out).toContain('  imagine: model → v1-5-pruned-emaonly.safetensors (preferred)');
    expect(out).toContain('  upscale: model → 4x-UltraSharp.pth (preferred)');
  });

  it('fails with a table when the server lacks what a command needs', async () => {
    const bare = await startFakeComfy({ models: { checkpoints: ['other.safetensors'], upscale_models: [] }, objectInfo: 'core' });
    try {
      const { code, out } = await check([...shipped, '--server', bare.url]);
      expect(code).toBe(1);
      expect(out).toMatch(/^resize +\| failed \| node 2 \("Upscale Image By", ImageScaleBy\): node class ImageScaleBy is not installed on the server$/m);
      // A model option with a preference default is not a problem while the server has some model in that folder …
      expect(out).toMatch(/^imagine +\| ok +\| -$/m);
      expect(out).toContain('  imagine: model → other.safetensors (first listed; none of v1-5-pruned-emaonly.safetensors, v1-5-pruned-emaonly-fp16.safetensors present)');
      // … and is one when the folder is empty.
      expect(out).toMatch(/^upscale +\| failed \| option "model": default: models\/upscale_models is empty, so a job that does not pick one cannot run there$/m);
      expect(out).toMatch(/6 of 8 command\(s\) failed/);
    } finally {
      await bare.close();
    }
  });

  it('checks actions: a broken action fails the check with a one-line reason, the command itself loads', async () => {
    const commandsDir = path.join(dir, 'actions', 'commands');
    await mkdir(commandsDir, { recursive: true });
    await cp(path.join(ROOT, 'commands'), commandsDir, { recursive: true });
    await writeFile(
      path.join(commandsDir, 'zoom.yml'),
      [
        'name: zoom',
        'description: d',
        'template: txt2img.json',
        'options: [{name: prompt, type: string, required: true, target: Positive Prompt.text}]',
        'actions:',
        '  - {name: again, inherit: true}',
        '  - {name: sharpen, command: sharpen, per: output}',
        '  - {name: up, command: upscale, per: output, with: {image: $output, strength: 2}}',
        '  - {name: big, command: upscale, per: job, with: {model: $output}}',
      ].join('\n'),
    );
    const { code, out } = await check(['--commands-dir', commandsDir, '--templates-dir', path.join(ROOT, 'templates')]);
    expect(code).toBe(1);
    expect(out).toMatch(/^zoom +\| failed \| action "sharpen": runs \/sharpen, which is not a loaded command$/m);
    expect(out).toMatch(/^ +\| +\| action "up": with.strength: \/upscale has no option "strength"$/m);
    expect(out).toMatch(/^ +\| +\| action "big": with.model: \$output is an image and "model" is a choice option$/m);
    expect(out).toMatch(/^imagine +\| ok +\| -$/m);
    expect(out).toContain('1 of 9 command(s) failed (offline).');
    const loaded = await loadCommands({ commandsDir, templatesDir: path.join(ROOT, 'templates') });
    expect(loaded.commands.get('zoom')?.actions.map((action) => action.name)).toEqual(['again']);
  });

  it('lists every problem of a broken command under its name, and the broken files by name', async () => {
    const commandsDir = path.join(dir, 'broken', 'commands');
    const templatesDir = path.join(dir, 'broken', 'templates');
    await mkdir(commandsDir, { recursive: true });
    await cp(path.join(ROOT, 'templates'), templatesDir, { recursive: true });
    await writeFile(
      path.join(commandsDir, 'bad.yml'),
      'name: bad\ndescription: d\ntemplate: txt2img.json\noptions:\n  - {name: steps, type: integer, min: 9, max: 1, target: KSampler.steps}\n  - {name: text, type: string, target: Prompt.text}\n',
    );
    await writeFile(path.join(commandsDir, 'ui.yml'), 'name: ui\ndescription: d\ntemplate: ui.json\n');
    await writeFile(path.join(templatesDir, 'ui.json'), JSON.stringify({ nodes: [], links: [] }));
    await writeFile(path.join(templatesDir, 'orphan.json'), '{"1": {"class_type": "KSampler"}}');
    const { code, out } = await check(['--commands-dir', commandsDir, '--templates-dir', templatesDir]);
    expect(code).toBe(1);
    expect(out).toMatch(/^bad\.yml +\| failed \| option "steps": min 9 is greater than max 1$/m);
    expect(out).toMatch(/^ +\| +\| option "text": no node in the template has the title, id or class "Prompt"$/m);
    expect(out).toMatch(/^ui\.yml +\| failed \| template ui\.json: this is a UI-format workflow/m);
    // A template no command names is checked too, and a template named by a broken command is not repeated.
    expect(out).toMatch(/^orphan\.json +\| failed \| template \(not used by any command\): template entry "1" is not an API-format node/m);
    expect(out).not.toMatch(/^ui\.json/m);
  });

  it('reads the directories from COMFYCORD_COMMANDS_DIR and COMFYCORD_TEMPLATES_DIR like the bot', async () => {
    const io = memoryIO({ COMFYCORD_COMMANDS_DIR: path.join(ROOT, 'commands'), COMFYCORD_TEMPLATES_DIR: path.join(ROOT, 'templates') });
    expect(await run([], io)).toBe(0);
    expect(io.out()).toContain('All 8 command(s) pass (offline).');
  });

  it('prints JSON with --json', async () => {
    const { code, out } = await check([...shipped, '--json']);
    const results = JSON.parse(out) as CheckResult[];
    expect(results.map((result) => [result.command, result.status])).toContainEqual(['imagine', 'ok']);
    expect(code).toBe(0);
  });

  it('reports an unreachable server per command and fails', async () => {
    const port = await closedPort();
    const { code, out } = await check([...shipped, '--server', `http://127.0.0.1:${port}`]);
    expect(code).toBe(1);
    expect(out).toMatch(new RegExp(`^imagine +\\| failed \\| could not check against http://127\\.0\\.0\\.1:${port}: `, 'm'));
  });

  it('goes live against COMFY_URL (with COMFY_API_KEY) when no --server is given, and --offline keeps it offline', async () => {
    const cloud = await startFakeComfy({ models: MODELS, profile: 'cloud', apiKey: 'secret-key' });
    try {
      const env = { COMFY_URL: cloud.url, COMFY_API_KEY: 'secret-key' };
      const live = memoryIO(env);
      expect(await run(shipped, live)).toBe(0);
      expect(live.out()).toContain(`All 8 command(s) pass (against ${cloud.url}).`);
      expect(cloud.requests.some((request) => request.path.endsWith('/object_info/KSampler'))).toBe(true);

      const asked = cloud.requests.length;
      const offline = memoryIO(env);
      expect(await run([...shipped, '--offline'], offline)).toBe(0);
      expect(offline.out()).toContain('All 8 command(s) pass (offline).');
      expect(cloud.requests).toHaveLength(asked);

      // The key really is sent: without it the cloud server refuses every request.
      const keyless = memoryIO({ COMFY_URL: cloud.url });
      expect(await run(shipped, keyless)).toBe(1);
      expect(keyless.out()).toMatch(/could not check against/);
    } finally {
      await cloud.close();
    }
  });

  it('checks a v2 COMFY_URL against the ComfyUI named behind it, and says nodes are unchecked without one', async () => {
    const behind = memoryIO({ COMFY_URL: `v2:http://127.0.0.1:9|${fake.url}` });
    expect(await run(shipped, behind)).toBe(0);
    expect(behind.out()).toContain(`All 8 command(s) pass (against ${fake.url}).`);
    const alone = memoryIO({ COMFY_URL: 'v2:https://cloud.example' });
    expect(await run(shipped, alone)).toBe(0);
    expect(alone.out()).toContain('pass (offline)');
    expect(alone.err()).toContain('https://cloud.example is a Comfy API v2 endpoint, which cannot list its nodes and models: they are not checked');
  });

  it('refuses server options that cannot be used', async () => {
    await expect(check([...shipped, '--offline', '--server', fake.url])).rejects.toThrow(new ArgsError('--offline and --server contradict each other'));
    await expect(check([...shipped, '--offline', '--api-key', 'k'])).rejects.toThrow(new ArgsError('--api-key has no use with --offline'));
    await expect(check([...shipped, '--api-key', 'k'])).rejects.toThrow(new ArgsError('--api-key needs a server: give --server URL or set COMFY_URL'));
    await expect(check([...shipped, '--server', 'localhost:8188'])).rejects.toThrow(new ArgsError('--server: must be an http(s) URL (got "localhost:8188")'));
  });

  it('checks a template checkpoint the server lacks through the model option\'s default, one value or a preference', async () => {
    const commandsDir = path.join(dir, 'defaulted', 'commands');
    const templatesDir = path.join(dir, 'defaulted', 'templates');
    await mkdir(commandsDir, { recursive: true });
    await cp(path.join(ROOT, 'templates'), templatesDir, { recursive: true });
    const yaml = (model: string) =>
      `name: paint\ndescription: d\ntemplate: txt2img.json\noptions:\n  - {name: model, type: choice, choices_from: models/checkpoints, ${model}target: Load Checkpoint.ckpt_name}\n`;
    const file = path.join(commandsDir, 'paint.yml');
    const noSd15 = await startFakeComfy({ models: { checkpoints: ['sdxl.safetensors'], upscale_models: ['4x-UltraSharp.pth'] } });
    try {
      await writeFile(file, yaml(''));
      const undefaulted = await check(['--commands-dir', commandsDir, '--templates-dir', templatesDir, '--server', noSd15.url]);
      expect(undefaulted.out).toMatch(/^paint +\| failed \| .*input "ckpt_name": "v1-5-pruned-emaonly.safetensors" is not available/m);
      await writeFile(file, yaml('default: sdxl.safetensors, '));
      const defaulted = await check(['--commands-dir', commandsDir, '--templates-dir', templatesDir, '--server', noSd15.url]);
      expect(defaulted.out).toMatch(/^paint +\| ok +\| -$/m);
      await writeFile(file, yaml('default: {prefer: [v1-5-pruned-emaonly.safetensors], else: first}, '));
      const preferring = await check(['--commands-dir', commandsDir, '--templates-dir', templatesDir, '--server', noSd15.url]);
      expect(preferring.out).toMatch(/^paint +\| ok +\| -$/m);
      expect(preferring.out).toContain('  paint: model → sdxl.safetensors (first listed; none of v1-5-pruned-emaonly.safetensors present)');
      await writeFile(file, yaml('default: {prefer: [v1-5-pruned-emaonly.safetensors]}, '));
      const strict = await check(['--commands-dir', commandsDir, '--templates-dir', templatesDir, '--server', noSd15.url]);
      expect(strict.out).toMatch(/^paint +\| failed \| option "model": default: none of v1-5-pruned-emaonly.safetensors is in models\/checkpoints \(and no "else: first"\), so a job that does not pick one cannot run there$/m);
      expect(strict.code).toBe(1);
    } finally {
      await noSd15.close();
    }
  });

  it('fails when there are no command files', async () => {
    const empty = path.join(dir, 'empty');
    await mkdir(empty, { recursive: true });
    const { code, out } = await check(['--commands-dir', empty, '--templates-dir', empty]);
    expect(out).toContain('No command files found.');
    expect(code).toBe(1);
  });

  it('shows help, and refuses unknown options and stray arguments', async () => {
    const help = (await check(['--help'])).out;
    expect(help).toMatch(/^Usage: comfycord check \[--server URL \| --offline\]/);
    expect(help).toContain('Offline unless a server is named: by --server, or else by COMFY_URL');
    await expect(check(['--servr', 'x'])).rejects.toThrow(ArgsError);
    const stray = await check(['imagine']);
    expect(stray.code).toBe(2);
    expect(stray.err).toContain('unexpected argument "imagine"');
  });
});
