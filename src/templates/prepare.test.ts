import { describe, expect, it } from 'vitest';
import { command, sampleWorkflow } from '../../test/templates/support.js';
import { OptionError } from './errors.js';
import { bindImages, prepareJob } from './prepare.js';
import { randomInRange } from './random.js';

const imagine = command(`
name: imagine
description: Make a picture
template: t.json
options:
  - {name: prompt, type: string, required: true, max_length: 1000, target: Positive Prompt.text}
  - {name: negative, type: string, min_length: 2, target: Negative Prompt.text}
  - {name: seed, type: integer, min: 0, max: 18446744073709551615, default: random, target: KSampler.seed}
  - {name: steps, type: integer, min: 1, max: 50, default: 20, target: KSampler.steps}
  - {name: cfg, type: number, min: 1, max: 20, step: 0.5, default: 7, target: KSampler.cfg}
  - {name: denoise, type: number, max: 1, target: KSampler.denoise}
  - {name: upscale, type: boolean, target: Empty Latent Image.batch_size}
  - {name: model, type: choice, choices_from: models/checkpoints, target: Load Checkpoint.ckpt_name}
  - {name: sampler, type: choice, choices_from: object_info/KSampler/sampler_name, default: euler, target: KSampler.sampler_name}
  - name: size
    type: choice
    choices: {square: {width: 1024, height: 1024}, portrait: {width: 832, height: 1216}}
    default: square
    targets: {width: Empty Latent Image.width, height: Empty Latent Image.height}
  - {name: scheduler, type: choice, choices: [normal, karras], target: KSampler.scheduler}
  - {name: image, type: image, target: Load Image.image}
  - {name: prefix, type: string, hidden: true, value: bot, target: 9.filename_prefix}
outputs: [9]
`);

const pinned = { random: () => 42n };
const prepare = (values: Record<string, unknown>) => prepareJob(imagine, values, pinned);

function optionError(fn: () => unknown): OptionError {
  try {
    fn();
  } catch (error) {
    if (error instanceof OptionError) return error;
    throw error;
  }
  throw new Error('expected an OptionError');
}

describe('prepareJob', () => {
  it('binds values and defaults on a copy, and reports what it used', () => {
    const job = prepare({ prompt: 'a red fox', steps: 30, model: 'sdxl.safetensors', size: 'portrait' });
    expect(job.command).toBe('imagine');
    expect(job.workflow['6']?.inputs.text).toBe('a red fox');
    expect(job.workflow['3']?.inputs).toMatchObject({ seed: 42, steps: 30, cfg: 7, sampler_name: 'euler', scheduler: 'normal' });
    expect(job.workflow['5']?.inputs).toMatchObject({ width: 832, height: 1216 });
    expect(job.workflow['4']?.inputs.ckpt_name).toBe('sdxl.safetensors');
    expect(job.workflow['9']?.inputs.filename_prefix).toBe('bot');
    expect(job.params).toEqual({ prompt: 'a red fox', seed: 42, steps: 30, cfg: 7, sampler: 'euler', size: 'portrait', model: 'sdxl.safetensors' });
    expect(job.outputs).toEqual(['9']);
    expect(job.images).toEqual([]);
    // The definition's workflow is untouched: the next job starts from the template again.
    expect(imagine.workflow['6']?.inputs.text).toBe('a cat');
    expect(imagine.workflow['5']?.inputs.width).toBe(512);
  });

  it('leaves the template value where an optional option without default is not given', () => {
    const job = prepare({ prompt: 'x' });
    expect(job.workflow['4']?.inputs.ckpt_name).toBe('sd15.safetensors');
    // …and records it, so the card shows what ran and a reroll keeps it.
    expect(job.params.model).toBe('sd15.safetensors');
  });

  it('accepts every type from command-line strings', () => {
    const job = prepare({ prompt: 'x', steps: '7', cfg: '2.5', upscale: 'true', seed: '18446744073709551615' });
    expect(job.workflow['3']?.inputs).toMatchObject({ steps: 7, cfg: 2.5, seed: '18446744073709551615' });
    expect(job.workflow['5']?.inputs.batch_size).toBe(true);
    expect(job.params.seed).toBe('18446744073709551615');
  });

  it('writes seeds up to 2^53-1 as numbers and larger ones as exact decimal strings', () => {
    expect(prepare({ prompt: 'x', seed: Number.MAX_SAFE_INTEGER }).workflow['3']?.inputs.seed).toBe(Number.MAX_SAFE_INTEGER);
    expect(prepare({ prompt: 'x', seed: 9007199254740993n }).workflow['3']?.inputs.seed).toBe('9007199254740993');
  });

  it('draws a fresh seed per job by default, small enough to be typed back into Discord', () => {
    const seeds = new Set(Array.from({ length: 5 }, () => String(prepareJob(imagine, { prompt: 'x' }).params.seed)));
    expect(seeds.size).toBeGreaterThan(1);
    for (const seed of seeds) expect(BigInt(seed)).toBeLessThanOrEqual(BigInt(Number.MAX_SAFE_INTEGER));
    const top = prepareJob(imagine, { prompt: 'x' }, { random: () => 0xffff_ffff_ffff_fff0n });
    expect(top.workflow['3']?.inputs.seed).toBe(Number(0xffff_ffff_ffff_fff0n % (BigInt(Number.MAX_SAFE_INTEGER) + 1n)));
    expect(top.params.seed).toBe(top.workflow['3']?.inputs.seed);
  });

  it.each([
    ['prompt', { steps: 3 }, 'prompt is required'],
    ['steps', { prompt: 'x', steps: 80 }, 'steps must be between 1 and 50 (got 80)'],
    ['steps', { prompt: 'x', steps: 0 }, 'steps must be between 1 and 50 (got 0)'],
    ['steps', { prompt: 'x', steps: 2.5 }, 'steps must be a whole number (got 2.5)'],
    ['steps', { prompt: 'x', steps: '1e3' }, 'steps must be a whole number (got "1e3")'],
    ['steps', { prompt: 'x', steps: 2 ** 60 }, `steps must be a whole number (got ${2 ** 60})`],
    ['seed', { prompt: 'x', seed: '18446744073709551616' }, 'seed must be between 0 and 18446744073709551615 (got 18446744073709551616)'],
    ['seed', { prompt: 'x', seed: -1 }, 'seed must be between 0 and 18446744073709551615 (got -1)'],
    ['cfg', { prompt: 'x', cfg: 7.3 }, 'cfg must be in steps of 0.5 (got 7.3)'],
    ['cfg', { prompt: 'x', cfg: 30 }, 'cfg must be between 1 and 20 (got 30)'],
    ['cfg', { prompt: 'x', cfg: Number.NaN }, 'cfg must be a number (got NaN)'],
    ['cfg', { prompt: 'x', cfg: 'lots' }, 'cfg must be a number (got "lots")'],
    ['denoise', { prompt: 'x', denoise: 1.5 }, 'denoise must be at most 1 (got 1.5)'],
    ['upscale', { prompt: 'x', upscale: 'yes' }, 'upscale must be true or false (got "yes")'],
    ['negative', { prompt: 'x', negative: 'a' }, 'negative must be at least 2 characters (got 1)'],
    ['prompt', { prompt: 12 }, 'prompt must be text'],
    ['size', { prompt: 'x', size: 'huge' }, 'size must be one of square, portrait (got "huge")'],
    ['scheduler', { prompt: 'x', scheduler: 'Normal' }, 'scheduler must be one of normal, karras (got "Normal")'],
    ['model', { prompt: 'x', model: 'a\nb' }, 'model must be one of the offered choices (got "a\\nb")'],
    ['model', { prompt: 'x', model: 5 }, 'model must be one of the offered choices'],
    ['prefix', { prompt: 'x', prefix: 'mine' }, 'prefix is fixed by the command and cannot be set'],
    ['colour', { prompt: 'x', colour: 'red' }, '/imagine has no option "colour"'],
  ])('refuses a bad %s with a message for the user', (option, values, message) => {
    const error = optionError(() => prepare(values));
    expect(error.option).toBe(option);
    expect(error.message).toBe(message);
  });

  it('rejects a 100 kB string by max_length', () => {
    const error = optionError(() => prepare({ prompt: 'a'.repeat(100_000) }));
    expect(error.message).toBe('prompt must be at most 1000 characters (got 100000)');
  });

  it('applies the 2000-character default limit when max_length is absent', () => {
    const plain = command('name: p\ndescription: d\ntemplate: t.json\noptions:\n  - {name: text, type: string, target: Positive Prompt.text}\n');
    expect(() => prepareJob(plain, { text: 'b'.repeat(2001) })).toThrow('text must be at most 2000 characters (got 2001)');
    expect(prepareJob(plain, { text: 'b'.repeat(2000) }).workflow['6']?.inputs.text).toHaveLength(2000);
  });

  it.each([
    '", "class_type": "Evil", "inputs": {"x": 1}}, "99": {"',
    '"], "class_type":',
    '{"__proto__": {"polluted": true}}',
    "'; DROP TABLE jobs; --",
    '\\u0022}}}]]]\u0000\u2028',
    '__proto__',
  ])('keeps the hostile string %j as plain text in one input', (hostile) => {
    const job = prepare({ prompt: hostile, negative: hostile });
    expect(job.workflow['6']?.inputs.text).toBe(hostile);
    expect(job.workflow['7']?.inputs.text).toBe(hostile);
    expect(Object.keys(job.workflow).sort()).toEqual(Object.keys(sampleWorkflow()).sort());
    expect(JSON.parse(JSON.stringify(job.workflow))).toEqual(job.workflow);
    expect(job.workflow['3']?.class_type).toBe('KSampler');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('treats prototype keys in the values as unknown options, without touching prototypes', () => {
    const values = JSON.parse('{"prompt": "x", "__proto__": {"polluted": true}}') as Record<string, unknown>;
    expect(() => prepare(values)).toThrow('/imagine has no option "__proto__"');
    expect(() => prepare({ prompt: 'x', constructor: 'y' })).toThrow('/imagine has no option "constructor"');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps a template whose node id is __proto__ working', () => {
    const workflow = JSON.parse('{"__proto__": {"class_type": "CLIPTextEncode", "inputs": {"text": ""}, "_meta": {"title": "P"}}}');
    const odd = command('name: p\ndescription: d\ntemplate: t.json\noptions:\n  - {name: text, type: string, target: P.text}\n', workflow);
    const job = prepareJob(odd, { text: 'hi' });
    expect(Object.hasOwn(job.workflow, '__proto__')).toBe(true);
    expect(JSON.stringify(job.workflow)).toBe('{"__proto__":{"class_type":"CLIPTextEncode","inputs":{"text":"hi"},"_meta":{"title":"P"}}}');
  });

  it('treats null and undefined as not given', () => {
    const job = prepare({ prompt: 'x', steps: null, cfg: undefined });
    expect(job.workflow['3']?.inputs).toMatchObject({ steps: 20, cfg: 7 });
  });
});

describe('image options', () => {
  const reimagine = command(`
name: reimagine
description: Redraw
template: t.json
options:
  - {name: image, type: image, required: true, target: Load Image.image}
  - {name: prompt, type: string, target: Positive Prompt.text}
`);

  it('carries the attachment reference, then binds the uploaded name', () => {
    const attachment = { id: '123', url: 'https://cdn.example/x.png' };
    const job = prepareJob(reimagine, { image: attachment });
    expect(job.images).toEqual([{ option: 'image', target: expect.objectContaining({ nodeId: '10', input: 'image' }), ref: attachment }]);
    expect(job.workflow['10']?.inputs.image).toBe('example.png');
    const bound = bindImages(job, { image: 'uploads/x (1).png' });
    expect(bound['10']?.inputs.image).toBe('uploads/x (1).png');
    expect(job.workflow['10']?.inputs.image).toBe('example.png');
  });

  it('requires a required image', () => {
    expect(optionError(() => prepareJob(reimagine, { prompt: 'x' })).message).toBe('image is required: attach an image');
  });

  it('refuses to bind without an uploaded name', () => {
    const job = prepareJob(reimagine, { image: 'ref' });
    expect(() => bindImages(job, {})).toThrow('bindImages: no uploaded file name for image option "image" of /reimagine');
    expect(() => bindImages(job, { image: '' })).toThrow(/no uploaded file name/);
  });
});

describe('randomInRange', () => {
  it('stays inside the range for any 64 bits', () => {
    for (const bits of [0n, 1n, 2n ** 63n, 2n ** 64n - 1n, -1n]) {
      const value = randomInRange(10n, 20n, () => bits);
      expect(value >= 10n && value <= 20n).toBe(true);
    }
    expect(randomInRange(0n, 2n ** 64n - 1n, () => 2n ** 64n - 1n)).toBe(2n ** 64n - 1n);
    expect(randomInRange(5n, 5n, () => 123n)).toBe(5n);
  });
});

describe('the command definition', () => {
  it('holds a frozen template, so only copies are ever bound', () => {
    expect(Object.isFrozen(imagine.workflow['6']?.inputs)).toBe(true);
    expect(() => {
      (imagine.workflow['6']!.inputs as Record<string, unknown>).text = 'changed';
    }).toThrow(TypeError);
    expect(Object.isFrozen(prepare({ prompt: 'x' }).workflow['6']?.inputs)).toBe(false);
  });
});

describe('prototype-named options', () => {
  it('binds an option called __proto__ like any other, as an own property of params', () => {
    const odd = command('name: p\ndescription: d\ntemplate: t.json\noptions:\n  - {name: __proto__, type: string, default: hi, target: Positive Prompt.text}\n  - {name: constructor, type: integer, target: KSampler.steps}\n');
    const job = prepareJob(odd, JSON.parse('{"__proto__": "evil", "constructor": 4}') as Record<string, unknown>);
    expect(job.workflow['6']?.inputs.text).toBe('evil');
    expect(job.workflow['3']?.inputs.steps).toBe(4);
    expect(Object.hasOwn(job.params, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(job.params)).toBe(Object.prototype);
    expect(prepareJob(odd, {}).workflow['6']?.inputs.text).toBe('hi');
  });
});
