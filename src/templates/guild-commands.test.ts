import { describe, expect, it } from 'vitest';
import { compileGuildCommand, GuildCommandSet, lookupCommand } from './guild-commands.js';
import type { CommandDefinition } from './definition.js';

const TEMPLATE = JSON.stringify({
  '3': { class_type: 'KSampler', inputs: { seed: 1, steps: 20, model: ['4', 0] } },
  '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'a.safetensors' } },
  '9': { class_type: 'SaveImage', inputs: { images: ['3', 0] } },
});
const FILE = 'name: fox\ndescription: Foxes\ntemplate: fox.json\noptions:\n  - { name: steps, type: integer, min: 1, max: 30, target: 3.steps }\n';
const row = (fields: Partial<{ guildId: string; name: string; commandFile: string; template: string }> = {}) => ({ guildId: '1', name: 'fox', commandFile: FILE, template: TEMPLATE, ...fields });

describe('server commands', () => {
  it('compile like command files on disk, named after their server', () => {
    const compiled = compileGuildCommand(row());
    expect(compiled.ok && compiled.value.options.map((o) => o.name)).toEqual(['steps']);
    const broken = compileGuildCommand(row({ commandFile: FILE.replace('3.steps', '3.nope') }));
    expect(broken.ok ? [] : broken.problems.map((p) => p.file)).toEqual(['guild 1/fox.yaml']);
    const renamed = compileGuildCommand(row({ name: 'wolf' }));
    expect(renamed.ok ? '' : renamed.problems[0]?.message).toContain('names /fox, stored as /wolf');
  });

  it('exist only in their server, a broken one is reported and left out, and a global command wins', () => {
    const { set, problems } = GuildCommandSet.from([row(), row({ guildId: '2', template: '{' })]);
    expect(set.get('1', 'fox')?.description).toBe('Foxes');
    expect(set.get('2', 'fox')).toBeUndefined();
    expect(set.get(null, 'fox')).toBeUndefined();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^guild 2\/fox\.yaml: template/);
    const global = new Map([['fox', { name: 'fox', description: 'global' } as CommandDefinition]]);
    expect(lookupCommand(global, set, '1', 'fox')?.description).toBe('global');
    expect(lookupCommand(new Map(), set, '1', 'fox')?.description).toBe('Foxes');
    set.remove('1', 'fox');
    expect(set.commandsOf('1')).toEqual([]);
  });
});
