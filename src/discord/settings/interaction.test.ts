import type { ChatInputCommandInteraction } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { fakeInteraction } from '../../../test/policy/fake-interaction.js';
import { answer, commandNamed, requiredString, SettingsError, type SettingsInteraction } from './interaction.js';
import { StoreError } from '../../jobs/store-errors.js';
import { commandFixture } from '../../../test/policy/command-fixture.js';

// Compile-time: a real discord.js interaction can be handed to the handlers as it is.
export const acceptsRealInteraction = (interaction: ChatInputCommandInteraction): SettingsInteraction => interaction;

describe('answer', () => {
  it('replies ephemerally without pinging anyone', async () => {
    const interaction = fakeInteraction({ subcommand: 'show' });
    await answer(interaction, () => 'hello <@&5>');
    expect(interaction.replies).toEqual([{ content: 'hello <@&5>', flags: 64, allowedMentions: { parse: [] } }]);
  });

  it('turns settings and store errors into the reply, and lets bugs through', async () => {
    const interaction = fakeInteraction({ subcommand: 'show' });
    await answer(interaction, () => {
      throw new SettingsError('Give a role.');
    });
    expect(interaction.lastReply()).toBe('Give a role.');
    await answer(interaction, () => {
      throw new StoreError('invalid settings for guild 1: spoilerResults: expected boolean');
    });
    expect(interaction.lastReply()).toBe('Not saved: invalid settings for guild 1: spoilerResults: expected boolean');
    await expect(answer(interaction, () => { throw new TypeError('bug'); })).rejects.toThrow('bug');
  });

  it('cuts replies to Discord\'s 2000 characters', async () => {
    const interaction = fakeInteraction({ subcommand: 'show' });
    await answer(interaction, () => 'x'.repeat(3000));
    expect(interaction.lastReply().length).toBeLessThanOrEqual(2000);
  });
});

describe('option helpers', () => {
  it('refuse missing or blank required text', () => {
    expect(() => requiredString(fakeInteraction({ subcommand: 'set', options: { value: '  ' } }), 'value')).toThrow('Please give value.');
  });

  it('find commands with or without the slash, and name unknown ones', () => {
    const deps = { store: {} as never, commands: () => new Map([['imagine', commandFixture()]]), relaxDefault: false };
    expect(commandNamed(deps, '/imagine').name).toBe('imagine');
    expect(() => commandNamed(deps, 'paint')).toThrow('There is no command /paint.');
  });
});
