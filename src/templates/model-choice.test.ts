import { describe, expect, it } from 'vitest';
import { command, problemsOf, recordedServer, sampleWorkflow } from '../../test/templates/support.js';
import { checkAgainstServer, modelUsesOn } from './live-check.js';
import { bindChoices, resolutionReason, resolvePreference, unresolvableReason, type ModelPreference } from './model-choice.js';
import { prepareJob } from './prepare.js';

const head = 'name: imagine\ndescription: d\ntemplate: t.json\noptions:\n  - {name: prompt, type: string, required: true, target: Positive Prompt.text}\n';
const withModel = (fields: string): string => `${head}  - {name: model, type: choice, choices_from: models/checkpoints, ${fields}target: Load Checkpoint.ckpt_name}\n`;
const preferring = command(withModel('default: {prefer: [a.safetensors, b.safetensors], else: first}, '));

describe('a preference default in a command file', () => {
  it('compiles to the preferred names and the fallback', () => {
    expect(preferring.options[1]).toMatchObject({ type: 'choice', default: { prefer: ['a.safetensors', 'b.safetensors'], fallback: 'first' } });
    expect(command(withModel('default: {prefer: [a.safetensors]}, ')).options[1]).toMatchObject({ default: { prefer: ['a.safetensors'], fallback: null } });
    expect(command(withModel('default: {else: first}, ')).options[1]).toMatchObject({ default: { prefer: [], fallback: 'first' } });
  });

  it.each([
    ['an empty preference', 'default: {}, ', /^default: give "prefer: \[model names…\]", "else: first", or both$/],
    ['an unknown fallback', 'default: {prefer: [a.safetensors], else: last}, ', /^default: must be a value from the list, or \{prefer: \[model names…\], else: first\}$/],
    ['a misspelt key', 'default: {prefers: [a.safetensors]}, ', /^default: must be a value from the list, or \{prefer/],
    ['prefer not a list', 'default: {prefer: a.safetensors}, ', /^default: must be a value from the list, or \{prefer/],
    ['a name listed twice', 'default: {prefer: [a.safetensors, a.safetensors]}, ', /^default: "a.safetensors" is listed twice in "prefer"$/],
    ['a required option with a preference', 'required: true, default: {else: first}, ', /^a required option cannot have a default$/],
  ])('refuses %s with a clear message', (_what, fields, message) => {
    expect(problemsOf(withModel(fields))).toContainEqual({ file: 'test.yml', option: 'model', message: expect.stringMatching(message) });
  });

  it('is only for model lists', () => {
    const yaml = `${head}  - {name: sampler, type: choice, choices_from: object_info/KSampler/sampler_name, default: {else: first}, target: KSampler.sampler_name}\n`;
    expect(problemsOf(yaml)).toContainEqual({
      file: 'test.yml',
      option: 'sampler',
      message: 'a default with "prefer"/"else" is for model lists (choices_from: models/<folder>); give a single value here',
    });
    const fixed = `${head}  - {name: s, type: choice, choices: [euler, ddim], default: {else: first}, target: KSampler.sampler_name}\n`;
    expect(problemsOf(fixed)).toContainEqual(expect.objectContaining({ option: 's', message: expect.stringMatching(/^a default with "prefer"\/"else" is for model lists/) }));
  });
});

describe('resolvePreference', () => {
  const preference: ModelPreference = { prefer: ['a.safetensors', 'b.safetensors'], fallback: 'first' };

  it('takes the first preferred name the list has, else the first listed', () => {
    expect(resolvePreference(preference, ['z.safetensors', 'a.safetensors', 'b.safetensors'])).toEqual({ value: 'a.safetensors', how: 'preferred', absent: [] });
    expect(resolvePreference(preference, ['z.safetensors', 'b.safetensors'])).toEqual({ value: 'b.safetensors', how: 'preferred', absent: ['a.safetensors'] });
    expect(resolvePreference(preference, ['z.safetensors', 'y.safetensors'])).toEqual({ value: 'z.safetensors', how: 'first-listed', absent: ['a.safetensors', 'b.safetensors'] });
  });

  it('finds nothing in an empty folder, or without a fallback when no preferred name is there', () => {
    expect(resolvePreference(preference, [])).toBeNull();
    expect(resolvePreference({ ...preference, fallback: null }, ['z.safetensors'])).toBeNull();
  });

  it('assumes the first preferred name where the list cannot be read', () => {
    expect(resolvePreference(preference, undefined)).toEqual({ value: 'a.safetensors', how: 'preferred', absent: [] });
    expect(resolvePreference({ prefer: [], fallback: 'first' }, undefined)).toBeNull();
  });

  it('says why in words', () => {
    expect(resolutionReason({ value: 'a', how: 'preferred', absent: [] })).toBe('preferred');
    expect(resolutionReason({ value: 'b', how: 'preferred', absent: ['a'] })).toBe('preferred; a absent');
    expect(resolutionReason({ value: 'z', how: 'first-listed', absent: ['a', 'b'] })).toBe('first listed; none of a, b present');
    expect(resolutionReason({ value: 'z', how: 'first-listed', absent: [] })).toBe('first listed');
    expect(unresolvableReason(preference, 'checkpoints', [])).toBe('models/checkpoints is empty');
    expect(unresolvableReason({ ...preference, fallback: null }, 'checkpoints', ['z'])).toBe('none of a.safetensors, b.safetensors is in models/checkpoints (and no "else: first")');
  });
});

describe('prepareJob with a preference default', () => {
  it('leaves an unpicked model pending: not bound, not in the params', () => {
    const prepared = prepareJob(preferring, { prompt: 'a cat' });
    expect(prepared.choices).toEqual([
      { option: 'model', folder: 'checkpoints', target: expect.objectContaining({ nodeId: '4', input: 'ckpt_name' }), preference: { prefer: ['a.safetensors', 'b.safetensors'], fallback: 'first' } },
    ]);
    expect(prepared.params).toEqual({ prompt: 'a cat' });
    expect(prepared.workflow['4']?.inputs.ckpt_name).toBe('sd15.safetensors');
  });

  it('binds a model the member picked, as any value', () => {
    const prepared = prepareJob(preferring, { prompt: 'a cat', model: 'mine.safetensors' });
    expect(prepared.choices).toEqual([]);
    expect(prepared.params).toEqual({ prompt: 'a cat', model: 'mine.safetensors' });
    expect(prepared.workflow['4']?.inputs.ckpt_name).toBe('mine.safetensors');
  });

  it('binds the chosen names on a copy', () => {
    const prepared = prepareJob(preferring, { prompt: 'a cat' });
    const bound = bindChoices(prepared.workflow, prepared.choices, { model: 'b.safetensors' });
    expect(bound['4']?.inputs.ckpt_name).toBe('b.safetensors');
    expect(prepared.workflow['4']?.inputs.ckpt_name).toBe('sd15.safetensors');
    expect(() => bindChoices(prepared.workflow, prepared.choices, {})).toThrow('bindChoices: no model chosen for option "model"');
  });
});

describe('checking a preference against a server', () => {
  it('passes and says which model it uses when the folder has one', async () => {
    const server = recordedServer({ checkpoints: ['z.safetensors', 'b.safetensors'] });
    expect(await checkAgainstServer(preferring, server)).toEqual([]);
    expect(await modelUsesOn(preferring, server)).toEqual([{ option: 'model', value: 'b.safetensors', reason: 'preferred; a.safetensors absent' }]);
  });

  it('fails when the folder is empty, without complaining about the template value it replaces', async () => {
    const server = recordedServer({ checkpoints: [] });
    expect(await checkAgainstServer(preferring, server)).toEqual([
      { file: 'test.yml', option: 'model', message: 'default: models/checkpoints is empty, so a job that does not pick one cannot run there' },
    ]);
    expect(await modelUsesOn(preferring, server)).toEqual([]);
  });

  it('lists nothing for a command without a preference', async () => {
    const plain = command(withModel('default: sd15.safetensors, '), sampleWorkflow());
    expect(await modelUsesOn(plain, recordedServer({ checkpoints: ['sd15.safetensors'] }))).toEqual([]);
  });
});
