import { describe, expect, it } from 'vitest';
import {
  buildCommandPayloads,
  builtinPayloads,
  commandDifferences,
  commandPayload,
  CommandPayloadError,
  needsRegistration,
  type CommandInput,
  type CommandLike,
} from './commandPayloads.js';

const imagine: CommandInput = {
  name: 'imagine',
  description: 'Create an image from a text prompt',
  options: [
    { name: 'negative', type: 'string', description: 'What to keep out', max_length: 1000 },
    { name: 'prompt', type: 'string', description: 'What to draw', required: true, max_length: 1000 },
    {
      name: 'size',
      type: 'choice',
      description: 'Image shape',
      choices: { square: { width: 512, height: 512 }, portrait: { width: 512, height: 768 } },
    },
    { name: 'model', type: 'choice', description: 'Checkpoint', choices_from: 'models/checkpoints' },
    { name: 'seed', type: 'integer', min: 0, max: 18446744073709551615 },
    { name: 'cfg', type: 'number', description: 'Guidance', min: 1, max: 20 },
    { name: 'image', type: 'image', description: 'Start image', required: true },
    { name: 'hires', type: 'boolean', description: 'Second pass' },
  ],
};

describe('commandPayload', () => {
  const payload = commandPayload(imagine);
  const option = (name: string) => payload.options?.find((o) => o.name === name) as Record<string, unknown> | undefined;

  it('puts required options first, otherwise keeping the file order', () => {
    expect(payload.options?.map((o) => o.name)).toEqual(['prompt', 'image', 'negative', 'size', 'model', 'seed', 'cfg', 'hires']);
  });

  it('maps each option type to Discord', () => {
    expect(option('prompt')).toEqual({ name: 'prompt', description: 'What to draw', required: true, type: 3, max_length: 1000 });
    expect(option('size')).toMatchObject({
      type: 3,
      choices: [
        { name: 'square', value: 'square' },
        { name: 'portrait', value: 'portrait' },
      ],
    });
    expect(option('model')).toMatchObject({ type: 3, autocomplete: true });
    expect(option('model')).not.toHaveProperty('choices');
    expect(option('cfg')).toMatchObject({ type: 10, min_value: 1, max_value: 20 });
    expect(option('image')).toMatchObject({ type: 11, required: true });
    expect(option('hires')).toMatchObject({ type: 5, required: false });
  });

  it("clamps integer limits to Discord's range and fills a missing description", () => {
    expect(option('seed')).toMatchObject({ type: 4, description: 'seed', min_value: 0, max_value: Number.MAX_SAFE_INTEGER });
  });

  it('is guild-only unless the file says otherwise', () => {
    expect(payload.contexts).toEqual([0]);
    expect(commandPayload({ ...imagine, guild_only: false }).contexts).toEqual([0, 1]);
  });

  it('offers more than 25 fixed choices through autocomplete', () => {
    const many = Array.from({ length: 30 }, (_, i) => `c${i}`);
    const result = commandPayload({ name: 'pick', options: [{ name: 'which', type: 'choice', choices: many }] });
    expect(result.options?.[0]).toMatchObject({ autocomplete: true });
    expect(result.options?.[0]).not.toHaveProperty('choices');
  });

  it('truncates long descriptions to 100 characters', () => {
    const result = commandPayload({ name: 'x', description: 'd'.repeat(300), options: [{ name: 'o', type: 'string', description: 'e'.repeat(300) }] });
    expect(result.description).toHaveLength(100);
    expect(result.options?.[0]?.description).toHaveLength(100);
  });

  it.each<[string, CommandInput, RegExp]>([
    ['an uppercase command name', { name: 'Imagine' }, /command name "Imagine" must be 1-32 lowercase/],
    ['a long option name', { name: 'x', options: [{ name: 'o'.repeat(33), type: 'string' }] }, /option "o+": name/],
    ['min above max', { name: 'x', options: [{ name: 'n', type: 'integer', min: 5, max: 1 }] }, /min 5 is above max 1/],
    ['a choice without choices', { name: 'x', options: [{ name: 'c', type: 'choice' }] }, /needs choices or choices_from/],
    ['both kinds of choices', { name: 'x', options: [{ name: 'c', type: 'choice', choices: ['a'], choices_from: 'models/x' }] }, /both choices and choices_from/],
    ['empty choices', { name: 'x', options: [{ name: 'c', type: 'choice', choices: [] }] }, /choices is empty/],
    ['a 101-character choice', { name: 'x', options: [{ name: 'c', type: 'choice', choices: ['a'.repeat(101)] }] }, /must be 1-100 characters/],
    ['a huge max_length', { name: 'x', options: [{ name: 's', type: 'string', max_length: 7000 }] }, /max_length must be an integer from 1 to 6000/],
    ['a duplicate option', { name: 'x', options: [{ name: 'a', type: 'string' }, { name: 'a', type: 'integer' }] }, /option "a" appears twice/],
    ['26 options', { name: 'x', options: Array.from({ length: 26 }, (_, i) => ({ name: `o${i}`, type: 'boolean' as const })) }, /26 options; Discord allows 25/],
    ['an unknown type', { name: 'x', options: [{ name: 'a', type: 'video' as never }] }, /unknown type "video"/],
    ['an infinite limit', { name: 'x', options: [{ name: 'a', type: 'number', max: Number.POSITIVE_INFINITY }] }, /max must be a finite number/],
  ])('refuses %s with a clear message', (_, input, message) => {
    expect(() => commandPayload(input)).toThrow(CommandPayloadError);
    expect(() => commandPayload(input)).toThrow(message);
  });
});

describe('builtinPayloads', () => {
  it('has /queue, /cancel, /help, /info, /show and an admin-only /comfy with five subcommands', () => {
    const payloads = builtinPayloads({ backendNames: ['gpu-a', 'gpu-b'] });
    expect(payloads.map((p) => p.name)).toEqual(['queue', 'cancel', 'help', 'info', 'show', 'comfy']);
    expect(payloads.find((p) => p.name === 'show')?.options).toMatchObject([{ name: 'job', type: 3, required: true }]);
    const comfy = payloads.find((p) => p.name === 'comfy');
    expect(comfy?.default_member_permissions).toBe('32');
    expect(comfy?.contexts).toEqual([0]);
    expect(comfy?.options?.map((o) => [o.name, o.type])).toEqual([
      ['status', 1],
      ['pause', 1],
      ['resume', 1],
      ['drain', 1],
      ['usage', 1],
    ]);
    expect(comfy?.options?.[0]).toMatchObject({
      options: [{ name: 'backend', required: false, choices: [{ name: 'gpu-a', value: 'gpu-a' }, { name: 'gpu-b', value: 'gpu-b' }] }],
    });
    // pause, resume and drain act on the server they are typed in unless an operator says `everywhere`.
    expect(comfy?.options?.slice(1, 4).map((o) => ('options' in o ? o.options?.map((x) => [x.name, x.type]) : []))).toEqual(
      Array.from({ length: 3 }, () => [
        ['backend', 3],
        ['everywhere', 5],
      ]),
    );
    // usage: this server's, or every server's for an operator.
    expect(comfy?.options?.[4]).toMatchObject({ name: 'usage', options: [{ name: 'everywhere', type: 5, required: false }] });
    for (const payload of payloads.filter((p) => p.name !== 'comfy')) expect(payload.default_member_permissions).toBeUndefined();
  });

  it('falls back to autocomplete for many backends', () => {
    const comfy = builtinPayloads({ backendNames: Array.from({ length: 30 }, (_, i) => `b${i}`) }).at(-1);
    expect(comfy?.options?.[0]).toMatchObject({ options: [{ name: 'backend', autocomplete: true }] });
  });
});

describe('buildCommandPayloads', () => {
  it('keeps good commands and reports broken or clashing ones, one line each', () => {
    const { payloads, problems } = buildCommandPayloads(
      [imagine, { name: 'queue' }, { name: 'Bad' }, { ...imagine, description: 'again' }],
      { backendNames: ['a'] },
    );
    expect(payloads.map((p) => p.name)).toEqual(['queue', 'cancel', 'help', 'info', 'show', 'comfy', 'imagine']);
    expect(problems).toEqual([
      { command: 'queue', message: 'command "queue" is already a built-in command; rename it' },
      { command: 'Bad', message: expect.stringContaining('must be 1-32 lowercase') },
      { command: 'imagine', message: 'command "imagine" is already another command file; rename it' },
    ]);
  });

  it('stops at 100 commands', () => {
    const many = Array.from({ length: 100 }, (_, i) => ({ name: `c${i}` }));
    const { payloads, problems } = buildCommandPayloads(many, { backendNames: [] });
    expect(payloads).toHaveLength(100);
    expect(problems).toHaveLength(6);
    expect(problems[0]?.message).toMatch(/Discord allows 100 commands/);
  });
});

/** What Discord answers to GET …/commands: ids, versions and filled-in defaults added, empty fields dropped. */
function asRegistered(command: CommandLike): CommandLike & Record<string, unknown> {
  return {
    id: '1234',
    application_id: '99',
    version: '5678',
    guild_id: '77',
    ...command,
    description_localizations: null,
    name_localizations: null,
    nsfw: false,
    dm_permission: false,
    default_member_permissions: command.default_member_permissions ?? null,
    options: command.options?.map((o) => ({ ...o, required: o.required || undefined })),
  };
}

describe('needsRegistration', () => {
  const desired = buildCommandPayloads([imagine], { backendNames: ['a'] }).payloads;

  it('is false when Discord already has the same commands, whatever it added or the order', () => {
    const existing = [...desired].reverse().map(asRegistered);
    expect(commandDifferences(desired, existing)).toEqual([]);
    expect(needsRegistration(desired, existing)).toBe(false);
  });

  it('is true for a new, changed or removed command, and says which', () => {
    const existing = desired.map(asRegistered);
    expect(needsRegistration(desired, existing.filter((c) => c.name !== 'imagine'))).toBe(true);
    const changed = desired.map((c) => (c.name === 'imagine' ? { ...c, description: 'Other' } : c));
    expect(commandDifferences(changed, existing)).toEqual(['/imagine changed']);
    expect(commandDifferences(desired, [...existing, { name: 'old', description: 'x' }])).toEqual(['/old is registered but no longer defined']);
    expect(commandDifferences(desired, [])).toContain('/imagine is not registered');
  });

  it('notices a changed option, choice or permission', () => {
    const existing = desired.map(asRegistered);
    const withMax = commandPayload({ ...imagine, options: imagine.options?.map((o) => (o.name === 'cfg' ? { ...o, max: 30 } : o)) });
    expect(commandDifferences([...desired.filter((c) => c.name !== 'imagine'), withMax], existing)).toEqual(['/imagine changed']);
    const open = desired.map((c) => (c.name === 'comfy' ? { ...c, default_member_permissions: undefined } : c));
    expect(commandDifferences(open, existing)).toEqual(['/comfy changed']);
    const dm = commandPayload({ ...imagine, guild_only: false });
    expect(commandDifferences([...desired.filter((c) => c.name !== 'imagine'), dm], existing)).toEqual(['/imagine changed']);
  });
});
