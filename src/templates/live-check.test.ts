import { describe, expect, it } from 'vitest';
import { command, recordedServer, sampleWorkflow } from '../../test/templates/support.js';
import { checkAgainstServer, valueProblem } from './live-check.js';

const models = { checkpoints: ['sd15.safetensors', 'sdxl.safetensors'], upscale_models: ['4x.pth'] };

const good = command(`
name: imagine
description: d
template: t.json
options:
  - {name: prompt, type: string, required: true, target: Positive Prompt.text}
  - {name: seed, type: integer, min: 0, max: 18446744073709551615, default: random, target: KSampler.seed}
  - {name: steps, type: integer, min: 1, max: 50, default: 20, target: KSampler.steps}
  - {name: model, type: choice, choices_from: models/checkpoints, default: sdxl.safetensors, target: Load Checkpoint.ckpt_name}
  - {name: sampler, type: choice, choices_from: object_info/KSampler/sampler_name, default: euler, target: KSampler.sampler_name}
  - {name: size, type: choice, choices: {square: {width: 1024, height: 1024}}, targets: {width: 5.width, height: 5.height}}
  - {name: image, type: image, required: true, target: Load Image.image}
outputs: [9]
`);

describe('checkAgainstServer', () => {
  it('passes a command whose nodes, inputs and values the recorded server accepts', async () => {
    const server = recordedServer(models);
    expect(await checkAgainstServer(good, server)).toEqual([]);
    expect(server.asked).toContain('KSampler');
  });

  it('reports a node class the server does not have', async () => {
    const workflow = { ...sampleWorkflow(), '20': { class_type: 'FancyUpscaler', inputs: { scale: 2 }, _meta: { title: 'Fancy' } } };
    const broken = command('name: x\ndescription: d\ntemplate: t.json\n', workflow);
    expect(await checkAgainstServer(broken, recordedServer(models))).toContainEqual({
      file: 'test.yml',
      message: 'node 20 ("Fancy", FancyUpscaler): node class FancyUpscaler is not installed on the server',
    });
  });

  it('reports template inputs the server does not know and values it would refuse', async () => {
    const workflow = sampleWorkflow();
    workflow['3']!.inputs.sampler_name = 'euler_fast';
    workflow['3']!.inputs.steps = 20000;
    workflow['3']!.inputs.cfg = 'high';
    workflow['3']!.inputs.noise_type = 'pink';
    workflow['4']!.inputs.ckpt_name = 'missing.safetensors';
    const messages = (await checkAgainstServer(command('name: x\ndescription: d\ntemplate: t.json\n', workflow), recordedServer(models))).map((p) => p.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^node 3 \("KSampler", KSampler\) input "sampler_name": "euler_fast" is not available on the server \(\d+ choices, e.g. "euler"/),
        'node 3 ("KSampler", KSampler) input "steps": 20000 is above the maximum 10000',
        'node 3 ("KSampler", KSampler) input "cfg": "high" is not a number',
        'node 3 ("KSampler", KSampler): the server\'s KSampler has no input "noise_type"',
        expect.stringMatching(/^node 4 \("Load Checkpoint", CheckpointLoaderSimple\) input "ckpt_name": "missing.safetensors" is not available/),
      ]),
    );
  });

  it('skips template values that every job overwrites (required image)', async () => {
    // example.png is in the recorded LoadImage list, so make it absent: a required option always replaces it.
    const workflow = sampleWorkflow();
    workflow['10']!.inputs.image = 'not-on-server.png';
    const yaml = 'name: x\ndescription: d\ntemplate: t.json\noptions:\n  - {name: image, type: IMAGE_TYPE, target: Load Image.image}\n';
    const required = command(yaml.replace('IMAGE_TYPE', 'image, required: true'), workflow);
    expect(await checkAgainstServer(required, recordedServer(models))).toEqual([]);
    const optional = command(yaml.replace('IMAGE_TYPE', 'image'), workflow);
    expect(await checkAgainstServer(optional, recordedServer(models))).toEqual([
      { file: 'test.yml', message: expect.stringMatching(/^node 10 \("Load Image", LoadImage\) input "image": "not-on-server.png" is not available/) },
    ]);
  });

  it('checks an input that a defaulted option always sets through the default, not the template placeholder', async () => {
    // The docs' fix for a template checkpoint the server lacks: give the model option a default.
    const workflow = sampleWorkflow();
    workflow['4']!.inputs.ckpt_name = 'placeholder.safetensors';
    workflow['3']!.inputs.steps = 99999;
    const yaml = (model: string): string => `
name: x
description: d
template: t.json
options:
  - {name: model, type: choice, choices_from: models/checkpoints, ${model}target: Load Checkpoint.ckpt_name}
  - {name: steps, type: integer, min: 1, max: 50, default: 20, target: KSampler.steps}
`;
    expect(await checkAgainstServer(command(yaml('default: sd15.safetensors, '), workflow), recordedServer(models))).toEqual([]);
    const undefaulted = await checkAgainstServer(command(yaml(''), workflow), recordedServer(models));
    expect(undefaulted.map((p) => p.message)).toEqual([
      expect.stringMatching(/^node 4 \("Load Checkpoint", CheckpointLoaderSimple\) input "ckpt_name": "placeholder.safetensors" is not available/),
    ]);
    // The default itself is what gets checked, so a wrong default is still caught.
    const wrongDefault = await checkAgainstServer(command(yaml('default: gone.safetensors, '), workflow), recordedServer(models));
    expect(wrongDefault).toEqual([
      { file: 'test.yml', option: 'model', message: expect.stringMatching(/^default "gone.safetensors" is not in the server's list/) },
    ]);
  });

  it('checks inputs a defaulted fixed choice sets through its choices, not the template', async () => {
    const workflow = sampleWorkflow();
    workflow['5']!.inputs.height = 4;
    const yaml = (extra: string): string => `
name: x
description: d
template: t.json
options:
  - {name: size, type: choice, ${extra}choices: {square: {width: 1024, height: 1024}}, targets: {width: 5.width, height: 5.height}}
`;
    expect(await checkAgainstServer(command(yaml('default: square, '), workflow), recordedServer(models))).toEqual([]);
    const optional = (await checkAgainstServer(command(yaml(''), workflow), recordedServer(models))).map((p) => p.message);
    expect(optional).toEqual(['node 5 ("Empty Latent Image", EmptyLatentImage) input "height": 4 is below the minimum 16']);
  });

  it('reports option ranges, defaults and fixed choices outside what the server allows', async () => {
    const bad = command(`
name: bad
description: d
template: t.json
options:
  - {name: steps, type: integer, min: 1, max: 20000, target: KSampler.steps}
  - {name: cfg, type: number, min: -5, max: 10, target: KSampler.cfg}
  - {name: model, type: choice, choices_from: models/checkpoints, default: gone.safetensors, target: Load Checkpoint.ckpt_name}
  - {name: sampler, type: choice, choices: [euler, warp_drive], target: KSampler.sampler_name}
  - {name: size, type: choice, choices: {tiny: {width: 8, height: 8}}, targets: {width: 5.width, height: 5.height}}
  - {name: scheduler, type: choice, choices_from: object_info/KSampler/nope, target: KSampler.scheduler}
  - {name: lora, type: choice, choices_from: models/loras, target: 9.filename_prefix}
  - {name: prefix, type: string, hidden: true, value: x, target: Negative Prompt.text}
  - {name: denoise, type: number, target: KSampler.denoise}
  - {name: batch, type: integer, hidden: true, value: 2, target: Empty Latent Image.batch_size}
`);
    const problems = await checkAgainstServer(bad, recordedServer(models));
    const byOption = (option: string) => problems.filter((p) => p.option === option).map((p) => p.message);
    expect(byOption('steps')).toEqual(['max 20000 allows values above the server\'s maximum 10000 for KSampler.steps']);
    expect(byOption('cfg')).toEqual(['min -5 allows values below the server\'s minimum 0 for KSampler.cfg']);
    expect(byOption('model')).toEqual(['default "gone.safetensors" is not in the server\'s list (choices: "sd15.safetensors", "sdxl.safetensors")']);
    expect(byOption('sampler')).toEqual([expect.stringMatching(/^choice "warp_drive" for KSampler.sampler_name: "warp_drive" is not available/)]);
    expect(byOption('size')).toEqual([
      'choice "tiny" for 5.width: 8 is below the minimum 16',
      'choice "tiny" for 5.height: 8 is below the minimum 16',
    ]);
    expect(byOption('scheduler')).toEqual(['choices_from object_info/KSampler/nope: KSampler has no list input "nope"']);
    expect(byOption('lora')).toEqual(['choices_from models/loras: the server cannot list this model folder (HTTP 404: there is no model folder "loras")']);
    expect(byOption('prefix')).toEqual([]);
    expect(byOption('denoise')).toEqual([
      "min (none) allows values below the server's minimum 0 for KSampler.denoise",
      "max (none) allows values above the server's maximum 1 for KSampler.denoise",
    ]);
    expect(byOption('batch')).toEqual([]);
  });
});

describe('valueProblem', () => {
  it('reads both combo shapes', () => {
    expect(valueProblem([['a', 'b'], {}], 'b')).toBeUndefined();
    expect(valueProblem(['COMBO', { options: ['x', 'y'] }], 'y')).toBeUndefined();
    expect(valueProblem(['COMBO', { options: ['x', 'y'] }], 'z')).toBe('"z" is not available on the server (choices: "x", "y")');
  });

  it('compares 64-bit integers exactly, whether numbers or strings', () => {
    const seed: [unknown, Record<string, unknown>] = ['INT', { min: 0, max: 18446744073709552000 }];
    expect(valueProblem(seed, '18446744073709551615')).toBeUndefined();
    expect(valueProblem(seed, 12)).toBeUndefined();
    expect(valueProblem(['INT', { min: 0, max: 100 }], '101')).toBe('101 is above the maximum 100');
    expect(valueProblem(['INT', {}], 1.5)).toBe('1.5 is not an integer');
  });

  it('checks booleans and strings, and lets unknown types through', () => {
    expect(valueProblem(['BOOLEAN', {}], 'yes')).toBe('"yes" is not true or false');
    expect(valueProblem(['STRING', {}], 5)).toBe('5 is not text');
    expect(valueProblem(['MODEL', {}], 'anything')).toBeUndefined();
  });
});
