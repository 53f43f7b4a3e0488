import { describe, expect, it } from 'vitest';
import { commandListErrors, messageBodyErrors } from './validation.js';

const codes = (errors: ReturnType<typeof commandListErrors>) => errors.map((e) => `${e.path.join('.')}:${e.code}`);
const option = (name: string, extra: Record<string, unknown> = {}) => ({ name, description: 'd', type: 3, ...extra });

describe('commandListErrors', () => {
  it('accepts a valid list, including subcommands and user/message commands without descriptions', () => {
    expect(
      commandListErrors([
        { name: 'imagine', description: 'Draw', options: [option('prompt', { autocomplete: true })] },
        { name: 'queue', description: 'Queue', options: [{ name: 'clear', description: 'c', type: 1, options: [option('user')] }] },
        { name: 'Upscale This', type: 3 },
      ]),
    ).toEqual([]);
  });

  it('names each broken rule with its path', () => {
    expect(codes(commandListErrors({}))).toEqual([':BASE_TYPE_ARRAY']);
    expect(codes(commandListErrors([{ name: 'Imagine', description: 'x' }]))).toEqual(['0.name:APPLICATION_COMMAND_INVALID_NAME']);
    expect(codes(commandListErrors([{ name: 'x'.repeat(33), description: 'x' }]))).toEqual(['0.name:BASE_TYPE_BAD_LENGTH']);
    expect(codes(commandListErrors([{ name: 'x', description: '' }]))).toEqual(['0.description:BASE_TYPE_BAD_LENGTH']);
    expect(codes(commandListErrors([{ name: 'x', description: 'd'.repeat(101) }]))).toEqual(['0.description:BASE_TYPE_BAD_LENGTH']);
    expect(codes(commandListErrors([{ name: 'x' }]))).toEqual(['0.description:BASE_TYPE_REQUIRED']);
    const many = Array.from({ length: 26 }, (_, i) => option(`o${i}`));
    expect(codes(commandListErrors([{ name: 'x', description: 'd', options: many }]))).toEqual(['0.options:BASE_TYPE_MAX_LENGTH']);
    const choices = Array.from({ length: 26 }, (_, i) => ({ name: `c${i}`, value: i }));
    expect(codes(commandListErrors([{ name: 'x', description: 'd', options: [option('o', { choices })] }]))).toEqual(['0.options.0.choices:BASE_TYPE_MAX_LENGTH']);
    expect(codes(commandListErrors([{ name: 'x', description: 'd', options: [option('o', { choices: [{ name: '', value: 1 }] })] }]))).toEqual([
      '0.options.0.choices.0.name:BASE_TYPE_BAD_LENGTH',
    ]);
    expect(codes(commandListErrors([{ name: 'x', description: 'd', options: [option('o'), option('o')] }]))).toEqual([
      '0.options.1.name:APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS',
    ]);
    expect(codes(commandListErrors([{ name: 'x', description: 'd', options: [{ name: 'sub', description: 'd', type: 1, options: [option('Bad')] }] }]))).toEqual([
      '0.options.0.options.0.name:APPLICATION_COMMAND_INVALID_NAME',
    ]);
    expect(codes(commandListErrors([{ name: 'x', description: 'd' }, { name: 'x', description: 'd' }]))).toEqual(['1.name:APPLICATION_COMMANDS_DUPLICATE_NAME']);
  });
});

describe('messageBodyErrors', () => {
  it('checks field name/value, footer and author limits inside embeds', () => {
    const errors = messageBodyErrors({
      embeds: [{ footer: { text: 'f'.repeat(2049) }, author: { name: 'a'.repeat(257) }, fields: [{ name: 'n'.repeat(257), value: 'v'.repeat(1025) }] }],
    });
    expect(errors.map((e) => e.path.join('.'))).toEqual(['embeds.0.footer.text', 'embeds.0.author.name', 'embeds.0.fields.0.name', 'embeds.0.fields.0.value']);
    expect(messageBodyErrors({ embeds: Array.from({ length: 11 }, () => ({})) }).map((e) => e.message)).toEqual(['Must be 10 or fewer in length.']);
    expect(messageBodyErrors({ content: 'ok', embeds: [{ title: 't' }] })).toEqual([]);
  });
});
