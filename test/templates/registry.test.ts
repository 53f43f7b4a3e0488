import { mkdtemp, readFile, rm, writeFile, mkdir, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/config/logger.js';
import type { CommandDefinition } from '../../src/templates/definition.js';
import { CommandRegistry } from '../../src/templates/registry.js';
import { prepareJob } from '../../src/templates/prepare.js';
import { ROOT, sampleWorkflow } from './support.js';

let dir: string;
let commandsDir: string;
let templatesDir: string;
const registries: CommandRegistry[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'comfycord-templates-'));
  commandsDir = path.join(dir, 'commands');
  templatesDir = path.join(dir, 'templates');
  await mkdir(commandsDir);
  await mkdir(templatesDir);
  await writeFile(path.join(templatesDir, 'sample.json'), JSON.stringify(sampleWorkflow()));
});

afterEach(async () => {
  for (const registry of registries.splice(0)) registry.close();
  await rm(dir, { recursive: true, force: true });
});

function logLines(): { logger: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ destination, level: 'info' }), lines };
}

async function load(debounceMs = 20): Promise<CommandRegistry> {
  const registry = await CommandRegistry.load({ commandsDir, templatesDir, debounceMs });
  registries.push(registry);
  return registry;
}

const commandFile = (name: string, extra = ''): string =>
  `name: ${name}\ndescription: The ${name} command\ntemplate: sample.json\noptions:\n  - {name: prompt, type: string, required: true, target: Positive Prompt.text}\n${extra}`;

describe('CommandRegistry.load', () => {
  it('loads the shipped commands and templates without problems', async () => {
    const registry = await CommandRegistry.load({ commandsDir: path.join(ROOT, 'commands'), templatesDir: path.join(ROOT, 'templates') });
    expect([...registry.commands.keys()].sort()).toEqual(['blend', 'imagine', 'outpaint', 'reimagine', 'resize', 'upscale', 'zoom15', 'zoom2']);
    expect(registry.problems).toEqual([]);
    const imagine = registry.commands.get('imagine')!;
    const job = prepareJob(imagine, { prompt: 'a lighthouse at dusk', size: 'portrait-xl' }, { random: () => 7n });
    expect(job.workflow['5']?.inputs).toMatchObject({ width: 832, height: 1216 });
    expect(job.params).toMatchObject({ seed: 7, steps: 20, cfg: 7, sampler: 'euler', scheduler: 'normal', size: 'portrait-xl' });
  });

  it('skips a broken file, logs why with file and option, and keeps the others', async () => {
    await writeFile(path.join(commandsDir, 'a.yml'), commandFile('alpha'));
    await writeFile(path.join(commandsDir, 'b.yml'), commandFile('beta', '  - {name: steps, type: integer, min: 5, max: 1, target: KSampler.steps}\n'));
    await writeFile(path.join(commandsDir, 'notes.txt'), 'not a command');
    const { logger, lines } = logLines();
    const registry = await CommandRegistry.load({ commandsDir, templatesDir, logger });
    expect([...registry.commands.keys()]).toEqual(['alpha']);
    expect(registry.problems).toEqual([{ file: path.join(commandsDir, 'b.yml'), option: 'steps', message: 'min 5 is greater than max 1' }]);
    expect(lines).toContainEqual(expect.objectContaining({ level: 50, file: path.join(commandsDir, 'b.yml'), option: 'steps', msg: expect.stringContaining('min 5 is greater than max 1') }));
  });

  it('reports a duplicate command name and keeps the first file', async () => {
    await writeFile(path.join(commandsDir, 'a.yml'), commandFile('same'));
    await writeFile(path.join(commandsDir, 'b.yaml'), commandFile('same'));
    const registry = await load();
    expect(registry.commands.get('same')?.file).toBe(path.join(commandsDir, 'a.yml'));
    expect(registry.problems).toEqual([{ file: path.join(commandsDir, 'b.yaml'), message: `command name /same is already used by ${path.join(commandsDir, 'a.yml')}; this file is skipped` }]);
  });

  it('explains a UI-format template', async () => {
    await writeFile(path.join(templatesDir, 'ui.json'), JSON.stringify({ nodes: [], links: [], version: 0.4 }));
    await writeFile(path.join(commandsDir, 'a.yml'), commandFile('ui').replace('sample.json', 'ui.json'));
    const registry = await load();
    expect(registry.problems[0]?.message).toMatch(/^template ui.json: this is a UI-format workflow .* Export \(API\)/);
  });

  it('reports a missing template and refuses templates outside the templates directory', async () => {
    await writeFile(path.join(commandsDir, 'a.yml'), commandFile('gone').replace('sample.json', 'gone.json'));
    await writeFile(path.join(commandsDir, 'b.yml'), commandFile('escape').replace('sample.json', '../commands/a.yml'));
    const registry = await load();
    expect(registry.problems.map((problem) => problem.message)).toEqual([
      expect.stringMatching(/^template gone.json: cannot read .*gone.json: ENOENT/),
      'template ../commands/a.yml: must be a file inside the templates directory',
    ]);
  });

  it('reports a missing commands directory instead of throwing', async () => {
    const registry = await CommandRegistry.load({ commandsDir: path.join(dir, 'nope'), templatesDir });
    expect(registry.commands.size).toBe(0);
    expect(registry.problems[0]?.message).toMatch(/^cannot read the commands directory: ENOENT/);
  });
});

type Commands = ReadonlyMap<string, CommandDefinition>;

/** Starts listening, runs `change`, and resolves with the first emitted set that `settled` accepts. */
function changeUntil(registry: CommandRegistry, settled: (commands: Commands) => boolean, change: () => Promise<void>): Promise<Commands> {
  const result = new Promise<Commands>((resolve) => {
    const listener = (commands: Commands): void => {
      if (!settled(commands)) return;
      registry.off('changed', listener);
      resolve(commands);
    };
    registry.on('changed', listener);
  });
  return change().then(() => result);
}

describe('CommandRegistry.watch', () => {
  // Editors may write a file in several steps, so each test waits for the set that matches the disk.
  it('reloads when a command file is added, changed or broken, and emits the new set', async () => {
    await writeFile(path.join(commandsDir, 'a.yml'), commandFile('alpha'));
    const registry = await load();
    registry.watch();

    const added = await changeUntil(registry, (commands) => commands.has('beta'), () => writeFile(path.join(commandsDir, 'b.yml'), commandFile('beta')));
    expect([...added.keys()].sort()).toEqual(['alpha', 'beta']);

    const broken = await changeUntil(registry, (commands) => !commands.has('beta'), () => writeFile(path.join(commandsDir, 'b.yml'), 'name: beta\ndescription: broken\n'));
    expect([...broken.keys()]).toEqual(['alpha']);
    expect(registry.problems).toContainEqual(expect.objectContaining({ file: path.join(commandsDir, 'b.yml'), message: expect.stringMatching(/^template: /) }));
  });

  it('reloads when a template changes', async () => {
    await writeFile(path.join(commandsDir, 'a.yml'), commandFile('alpha'));
    const registry = await load();
    registry.watch();
    const edited = sampleWorkflow();
    edited['6']!.inputs.text = 'edited';
    const commands = await changeUntil(
      registry,
      (set) => set.get('alpha')?.workflow['6']?.inputs.text === 'edited',
      () => writeFile(path.join(templatesDir, 'sample.json'), JSON.stringify(edited)),
    );
    expect(commands.get('alpha')?.template).toBe('sample.json');
  });

  it('logs a directory it cannot watch instead of throwing', async () => {
    const { logger, lines } = logLines();
    const registry = await CommandRegistry.load({ commandsDir, templatesDir: path.join(dir, 'missing'), logger });
    registries.push(registry);
    expect(() => registry.watch()).not.toThrow();
    expect(lines).toContainEqual(expect.objectContaining({ level: 50, msg: `cannot watch ${path.join(dir, 'missing')} for command changes` }));
  });

  it('stops emitting after close', async () => {
    const registry = await load();
    registry.watch();
    registry.close();
    let emitted = false;
    registry.on('changed', () => (emitted = true));
    await writeFile(path.join(commandsDir, 'c.yml'), commandFile('gamma'));
    await registry.reload();
    expect(emitted).toBe(false);
    expect(registry.commands.has('gamma')).toBe(true);
  });
});

describe('shipped templates', () => {
  it('are API format with string ids and a title on every node', async () => {
    for (const name of ['txt2img', 'img2img', 'outpaint', 'resize', 'upscale-model']) {
      const workflow = JSON.parse(await readFile(path.join(ROOT, 'templates', `${name}.json`), 'utf8')) as Record<string, { class_type: string; _meta?: { title?: string } }>;
      for (const [id, node] of Object.entries(workflow)) {
        expect(id).toMatch(/^\d+$/);
        expect(typeof node.class_type).toBe('string');
        expect(node._meta?.title, `${name} node ${id}`).toBeTruthy();
      }
    }
  });

  it('can be copied and loaded from another place', async () => {
    await cp(path.join(ROOT, 'commands'), commandsDir, { recursive: true });
    await cp(path.join(ROOT, 'templates'), templatesDir, { recursive: true });
    const registry = await load();
    expect(registry.commands.size).toBe(8);
  });
});
