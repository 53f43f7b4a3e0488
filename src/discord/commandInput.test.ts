import { describe, expect, it } from 'vitest';
import type { CommandDefinition } from '../templates/definition.js';
import type { ResolvedTarget } from '../templates/targets.js';
import { commandInputFrom } from './commandInput.js';
import { commandPayload } from './commandPayloads.js';

const target = (ref: string): ResolvedTarget => ({ nodeId: '3', matchedBy: 'title', ref, input: 'x' });
const base = { description: 'd', required: false, hidden: false };

const definition: CommandDefinition = {
  name: 'imagine',
  description: 'Create an image',
  guildOnly: true,
  file: 'commands/imagine.yml',
  template: 'txt2img.json',
  actions: [],
  workflow: {},
  outputs: ['9'],
  limits: {},
  options: [
    { ...base, name: 'prompt', type: 'string', required: true, minLength: 0, maxLength: 1000, target: target('Positive Prompt.text') },
    { ...base, name: 'seed', type: 'integer', min: 0n, max: 18446744073709551615n, default: 'random', target: target('KSampler.seed') },
    { ...base, name: 'cfg', type: 'number', min: 1, max: 20, step: 0.5, target: target('KSampler.cfg') },
    { ...base, name: 'hires', type: 'boolean', target: target('x.y') },
    { ...base, name: 'size', type: 'choice', source: { kind: 'fixed', choices: [{ name: 'square', writes: [] }, { name: 'portrait', writes: [] }] } },
    { ...base, name: 'model', type: 'choice', source: { kind: 'models', folder: 'checkpoints', target: target('Load Checkpoint.ckpt_name') } },
    { ...base, name: 'sampler', type: 'choice', source: { kind: 'object_info', nodeClass: 'KSampler', input: 'sampler_name', target: target('KSampler.sampler_name') } },
    { ...base, hidden: false as const, name: 'image', type: 'image', required: true, target: target('Load Image.image') },
    { ...base, name: 'batch', type: 'integer', hidden: true, min: 1n, max: 4n, default: 1n, target: target('Latent.batch_size') },
  ],
};

describe('commandInputFrom', () => {
  it('carries every visible option of a compiled command definition', () => {
    const input = commandInputFrom(definition);
    expect(input).toMatchObject({ name: 'imagine', description: 'Create an image', guild_only: true });
    expect(input.options?.map((o) => o.name)).toEqual(['prompt', 'seed', 'cfg', 'hires', 'size', 'model', 'sampler', 'image']);
    expect(input.options?.find((o) => o.name === 'size')?.choices).toEqual(['square', 'portrait']);
    expect(input.options?.find((o) => o.name === 'model')?.choices_from).toBe('models/checkpoints');
    expect(input.options?.find((o) => o.name === 'sampler')?.choices_from).toBe('object_info/KSampler/sampler_name');
  });

  it('produces a payload Discord accepts', () => {
    const payload = commandPayload(commandInputFrom(definition));
    expect(payload.options?.slice(0, 2).map((o) => o.name)).toEqual(['prompt', 'image']);
    expect(payload.options?.find((o) => o.name === 'prompt')).not.toHaveProperty('min_length');
    expect(payload.options?.find((o) => o.name === 'seed')).toMatchObject({ min_value: 0, max_value: Number.MAX_SAFE_INTEGER });
    expect(commandPayload(commandInputFrom({ ...definition, guildOnly: false })).contexts).toEqual([0, 1]);
  });
});
