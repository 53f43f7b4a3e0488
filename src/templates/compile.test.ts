import { describe, expect, it } from 'vitest';
import { command, problemsOf } from '../../test/templates/support.js';
import { parseCommandFile } from './compile.js';

const head = 'name: imagine\ndescription: Make a picture\ntemplate: t.json\n';
const withOptions = (options: string): string => `${head}options:\n${options}`;

describe('a valid command file', () => {
  const definition = command(
    withOptions(`
  - name: prompt
    type: string
    required: true
    max_length: 1000
    target: Positive Prompt.text
  - {name: seed, type: integer, min: 0, max: 18446744073709551615, default: random, target: KSampler.seed}
  - {name: cfg, type: number, min: 1, max: 20, step: 0.5, default: 7.5, target: KSampler.cfg}
  - {name: tiled, type: boolean, default: false, target: KSampler.denoise}
  - {name: model, type: choice, choices_from: models/checkpoints, default: sd15.safetensors, target: Load Checkpoint.ckpt_name}
  - {name: sampler, type: choice, choices_from: object_info/KSampler/sampler_name, target: KSampler.sampler_name}
  - name: size
    type: choice
    choices: {square: {width: 1024, height: 1024}, portrait: {width: 832, height: 1216}}
    default: square
    targets: {width: Empty Latent Image.width, height: Empty Latent Image.height}
  - {name: image, type: image, target: Load Image.image}
  - {name: steps, type: integer, hidden: true, value: 30, target: KSampler.steps}
outputs: [9]
guild_only: false
limits: {per_user_running: 2, per_user_queued: 5}
`),
  );

  it('keeps names, defaults and resolved targets', () => {
    expect(definition).toMatchObject({ name: 'imagine', guildOnly: false, template: 't.json', outputs: ['9'], limits: { perUserRunning: 2, perUserQueued: 5 } });
    const [prompt, seed, cfg, , model, sampler, size, image, steps] = definition.options;
    expect(prompt).toMatchObject({ type: 'string', required: true, maxLength: 1000, minLength: 0, description: 'prompt', target: { nodeId: '6', input: 'text' } });
    expect(seed).toMatchObject({ type: 'integer', min: 0n, max: 18446744073709551615n, default: 'random' });
    expect(cfg).toMatchObject({ type: 'number', min: 1, max: 20, step: 0.5, default: 7.5 });
    expect(model).toMatchObject({ type: 'choice', default: 'sd15.safetensors', source: { kind: 'models', folder: 'checkpoints', target: { nodeId: '4' } } });
    expect(sampler).toMatchObject({ source: { kind: 'object_info', nodeClass: 'KSampler', input: 'sampler_name' } });
    expect(size).toMatchObject({ source: { kind: 'fixed', choices: [{ name: 'square' }, { name: 'portrait' }] } });
    expect(image).toMatchObject({ type: 'image', hidden: false, target: { nodeId: '10', input: 'image' } });
    expect(steps).toMatchObject({ type: 'integer', hidden: true, default: 30n });
  });

  it('defaults to guild-only, 2000-character strings and every sink as output', () => {
    const plain = command(withOptions('  - {name: prompt, type: string, target: Positive Prompt.text}\n'));
    expect(plain.guildOnly).toBe(true);
    expect(plain.options[0]).toMatchObject({ maxLength: 2000, required: false, hidden: false });
    expect([...plain.outputs].sort()).toEqual(['11', '9']);
  });

  it('accepts a list of strings as fixed choices', () => {
    const listed = command(withOptions('  - {name: sched, type: choice, choices: [normal, karras], default: karras, target: KSampler.scheduler}\n'));
    expect(listed.options[0]).toMatchObject({ source: { choices: [{ name: 'normal', writes: [{ value: 'normal' }] }, { name: 'karras' }] } });
  });
});

describe('command file problems', () => {
  const cases: Array<[string, string, { option?: string; message: RegExp }]> = [
    ['an upper-case command name', 'name: Imagine\ndescription: x\ntemplate: t.json\n', { message: /^name: must be lower case/ }],
    ['a command name with spaces', 'name: my command\ndescription: x\ntemplate: t.json\n', { message: /^name: must be 1-32 characters/ }],
    ['a 33-character command name', `name: ${'a'.repeat(33)}\ndescription: x\ntemplate: t.json\n`, { message: /^name: must be 1-32/ }],
    ['a missing description', 'name: imagine\ntemplate: t.json\n', { message: /^description: / }],
    ['a 101-character description', `name: imagine\ndescription: ${'d'.repeat(101)}\ntemplate: t.json\n`, { message: /at most 100 characters/ }],
    ['an unknown key', `${head}temlpate: x\n`, { message: /Unrecognized key: "temlpate"/ }],
    ['an unknown option type', withOptions('  - {name: x, type: text, target: KSampler.seed}\n'), { option: 'x', message: /type must be one of string, integer/ }],
    ['an unknown option key', withOptions('  - {name: x, type: string, maxlength: 3, target: Positive Prompt.text}\n'), { option: 'x', message: /maxlength/ }],
    ['an option description over 100 characters', withOptions(`  - {name: x, type: string, description: ${'d'.repeat(101)}, target: Positive Prompt.text}\n`), { option: 'x', message: /description: must be at most 100/ }],
    ['a bad option name', withOptions('  - {name: "no spaces", type: string, target: Positive Prompt.text}\n'), { option: 'no spaces', message: /name: must be 1-32/ }],
    ['an unknown node title', withOptions('  - {name: x, type: string, target: Positive.text}\n'), { option: 'x', message: /no node in the template has the title, id or class "Positive"/ }],
    ['a missing input', withOptions('  - {name: x, type: integer, target: KSampler.sed}\n'), { option: 'x', message: /has no input "sed"/ }],
    ['a link target', withOptions('  - {name: x, type: string, target: VAE Decode.vae}\n'), { option: 'x', message: /is a link from node 4/ }],
    ['min above max', withOptions('  - {name: x, type: integer, min: 10, max: 1, target: KSampler.steps}\n'), { option: 'x', message: /min 10 is greater than max 1/ }],
    ['number min above max', withOptions('  - {name: x, type: number, min: 2, max: 1, target: KSampler.cfg}\n'), { option: 'x', message: /min 2 is greater than max 1/ }],
    ['a default above max', withOptions('  - {name: x, type: integer, min: 1, max: 50, default: 80, target: KSampler.steps}\n'), { option: 'x', message: /default 80 is outside the range 1..50/ }],
    ['a number default off the step', withOptions('  - {name: x, type: number, min: 1, max: 20, step: 0.5, default: 7.3, target: KSampler.cfg}\n'), { option: 'x', message: /not on the step 0.5/ }],
    ['a number default below min', withOptions('  - {name: x, type: number, min: 1, default: 0, target: KSampler.cfg}\n'), { option: 'x', message: /outside the range 1..∞/ }],
    ['a string default longer than max_length', withOptions('  - {name: x, type: string, max_length: 3, default: abcd, target: Positive Prompt.text}\n'), { option: 'x', message: /default is 4 characters long, outside 0-3/ }],
    ['min_length above max_length', withOptions('  - {name: x, type: string, min_length: 5, max_length: 3, target: Positive Prompt.text}\n'), { option: 'x', message: /min_length 5 is greater than max_length 3/ }],
    ['a required option with a default', withOptions('  - {name: x, type: integer, required: true, default: 3, target: KSampler.steps}\n'), { option: 'x', message: /a required option cannot have a default/ }],
    ['a default not among the choices', withOptions('  - {name: x, type: choice, choices: [a, b], default: c, target: KSampler.scheduler}\n'), { option: 'x', message: /default "c" is not one of the choices \(a, b\)/ }],
    ['both choices and choices_from', withOptions('  - {name: x, type: choice, choices: [a], choices_from: models/checkpoints, target: KSampler.scheduler}\n'), { option: 'x', message: /exactly one of "choices"/ }],
    ['neither choices nor choices_from', withOptions('  - {name: x, type: choice, target: KSampler.scheduler}\n'), { option: 'x', message: /exactly one of "choices"/ }],
    ['both target and targets', withOptions('  - {name: x, type: choice, choices: [a], target: KSampler.scheduler, targets: {a: KSampler.steps}}\n'), { option: 'x', message: /exactly one of "target" or "targets"/ }],
    ['a malformed choices_from', withOptions('  - {name: x, type: choice, choices_from: loras, target: KSampler.scheduler}\n'), { option: 'x', message: /must be models\/<folder> or object_info\/<Class>\/<input>/ }],
    ['choices_from with targets', withOptions('  - {name: x, type: choice, choices_from: models/loras, targets: {a: KSampler.scheduler}}\n'), { option: 'x', message: /use "target"/ }],
    ['a choice missing a target value', withOptions('  - {name: x, type: choice, choices: {sq: {width: 5}}, targets: {width: 5.width, height: 5.height}}\n'), { option: 'x', message: /choice "sq" has no value for height/ }],
    ['a choice setting an unlisted target', withOptions('  - {name: x, type: choice, choices: {sq: {width: 5, depth: 1}}, targets: {width: 5.width}}\n'), { option: 'x', message: /sets depth, which is not in "targets"/ }],
    ['a multi-input choice with a single target', withOptions('  - {name: x, type: choice, choices: {sq: {width: 5}}, target: 5.width}\n'), { option: 'x', message: /needs "targets"/ }],
    ['a scalar choice with targets', withOptions('  - {name: x, type: choice, choices: {sq: 5}, targets: {width: 5.width}}\n'), { option: 'x', message: /must map each of the targets \(width\)/ }],
    ['a list of choices with targets', withOptions('  - {name: x, type: choice, choices: [a], targets: {width: 5.width}}\n'), { option: 'x', message: /a list of choices sets one input/ }],
    ['more than 25 fixed choices', withOptions(`  - {name: x, type: choice, choices: [${Array.from({ length: 26 }, (_, i) => `c${i}`).join(', ')}], target: KSampler.scheduler}\n`), { option: 'x', message: /26 fixed choices; Discord shows at most 25 \(use choices_from/ }],
    ['an empty choice list', withOptions('  - {name: x, type: choice, choices: [], target: KSampler.scheduler}\n'), { option: 'x', message: /"choices" is empty/ }],
    ['a hidden option without value', withOptions('  - {name: x, type: integer, hidden: true, target: KSampler.steps}\n'), { option: 'x', message: /a hidden option needs a fixed "value"/ }],
    ['a value on a visible option', withOptions('  - {name: x, type: integer, value: 3, target: KSampler.steps}\n'), { option: 'x', message: /"value" is only for hidden options/ }],
    ['a hidden required option', withOptions('  - {name: x, type: integer, hidden: true, required: true, value: 3, target: KSampler.steps}\n'), { option: 'x', message: /cannot be required/ }],
    ['a hidden image', withOptions('  - {name: x, type: image, hidden: true, target: Load Image.image}\n'), { option: 'x', message: /an image option cannot be hidden/ }],
    ['a duplicate option name', withOptions('  - {name: x, type: integer, target: KSampler.steps}\n  - {name: x, type: integer, target: KSampler.seed}\n'), { option: 'x', message: /option name is used twice/ }],
    ['two options writing one input', withOptions('  - {name: a, type: integer, target: KSampler.steps}\n  - {name: b, type: integer, target: 3.steps}\n'), { option: 'b', message: /writes input "steps" of node 3, as option "a" does/ }],
    ['an unknown output node', `${head}outputs: [Final]\n`, { message: /outputs: no node in the template has the title, id or class "Final"/ }],
    ['a non-integer max', withOptions('  - {name: x, type: integer, max: 2.5, target: KSampler.steps}\n'), { option: 'x', message: /^max: must be a whole number/ }],
    ['a negative limit', `${head}limits: {per_user_queued: -1}\n`, { message: /limits.per_user_queued/ }],
  ];

  it.each(cases)('reports %s', (_what, yaml, expected) => {
    const problems = problemsOf(yaml);
    expect(problems).toContainEqual(expect.objectContaining({ file: 'test.yml', ...(expected.option !== undefined && { option: expected.option }), message: expect.stringMatching(expected.message) }));
  });

  it('reports more than 25 visible options (hidden ones do not count)', () => {
    const many = Array.from({ length: 26 }, (_, i) => `  - {name: o${i}, type: string, target: ${i % 2 ? 'Positive' : 'Negative'} Prompt.text}\n`).join('');
    const problems = problemsOf(withOptions(many));
    expect(problems).toContainEqual({ file: 'test.yml', message: '26 visible options; Discord allows at most 25' });
  });

  it('reports every broken option, not just the first', () => {
    const problems = problemsOf(withOptions('  - {name: a, type: integer, target: Nope.steps}\n  - {name: b, type: integer, min: 3, max: 1, target: KSampler.seed}\n'));
    expect(problems.map((problem) => problem.option)).toEqual(['a', 'b']);
  });

  it('reports YAML syntax errors with the file', () => {
    const result = parseCommandFile('bad.yml', 'name: [unclosed\n');
    expect(result).toMatchObject({ ok: false, problems: [{ file: 'bad.yml', message: expect.stringMatching(/^not valid YAML/) }] });
  });

  it('keeps integers beyond 2^53 exact', () => {
    const seed = command(withOptions('  - {name: seed, type: integer, min: 9007199254740993, max: 18446744073709551615, default: 18446744073709551614, target: KSampler.seed}\n')).options[0];
    expect(seed).toMatchObject({ min: 9007199254740993n, max: 18446744073709551615n, default: 18446744073709551614n });
  });
});

describe('shape messages', () => {
  it('says what a choices value must look like', () => {
    const problems = problemsOf(withOptions('  - {name: x, type: choice, choices: 5, target: KSampler.steps}\n'));
    expect(problems).toEqual([{ file: 'test.yml', option: 'x', message: 'choices: must be a list of names, a map of name → value, or a map of name → {target: value}' }]);
  });

  it('says a default must be a whole number or random', () => {
    const problems = problemsOf(withOptions('  - {name: x, type: integer, default: lots, target: KSampler.steps}\n'));
    expect(problems).toEqual([{ file: 'test.yml', option: 'x', message: expect.stringMatching(/^default: must be a whole number/) }]);
  });
});
