// A hand-built /imagine definition covering every option kind, for policy and /settings tests.
import type { CommandDefinition, OptionDefinition } from '../../src/templates/definition.js';
import type { ResolvedTarget } from '../../src/templates/targets.js';

const target = (nodeId: string, input: string): ResolvedTarget => ({ nodeId, input, ref: nodeId, matchedBy: 'id' });
const base = { description: 'x', required: false, hidden: false };

const imagineOptions: OptionDefinition[] = [
  { ...base, name: 'prompt', type: 'string', required: true, minLength: 1, maxLength: 500, target: target('6', 'text') },
  { ...base, name: 'negative', type: 'string', minLength: 0, maxLength: 500, default: '', target: target('7', 'text') },
  { ...base, name: 'steps', type: 'integer', min: 1n, max: 50n, default: 20n, target: target('3', 'steps') },
  { ...base, name: 'seed', type: 'integer', min: 0n, max: 2n ** 64n - 1n, default: 'random', target: target('3', 'seed') },
  { ...base, name: 'cfg', type: 'number', min: 1, max: 20, step: 0.5, default: 7, target: target('3', 'cfg') },
  { ...base, name: 'hires', type: 'boolean', default: false, target: target('9', 'enabled') },
  {
    ...base,
    name: 'size',
    type: 'choice',
    default: 'square',
    source: { kind: 'fixed', choices: [{ name: 'square', writes: [] }, { name: 'wide', writes: [] }] },
  },
  { ...base, name: 'sampler', type: 'choice', source: { kind: 'object_info', nodeClass: 'KSampler', input: 'sampler_name', target: target('3', 'sampler_name') } },
  { ...base, name: 'init', type: 'image', hidden: false, target: target('10', 'image') },
  { ...base, name: 'model', type: 'string', hidden: true, minLength: 1, maxLength: 100, default: 'sd15', target: target('4', 'ckpt_name') },
];

export function commandFixture(name = 'imagine', options: OptionDefinition[] = imagineOptions): CommandDefinition {
  return { name, description: `Run ${name}`, guildOnly: true, file: `${name}.yaml`, template: 't.json', workflow: {}, options, outputs: ['9'], limits: {}, actions: [] };
}
