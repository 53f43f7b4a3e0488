import { describe, expect, it } from 'vitest';
import { commandFixture } from '../../../test/policy/command-fixture.js';
import { fakeInteraction, useSettingsWorld } from '../../../test/policy/fake-interaction.js';
import { handleSettings, settingsAutocomplete } from './userSettings.js';

const commands = new Map([
  ['imagine', commandFixture()],
  ['upscale', commandFixture('upscale')],
]);
const settings = useSettingsWorld(commands);

async function run(subcommand: string, options: Record<string, string> = {}, extra: { guildId?: string | null } = {}) {
  const interaction = fakeInteraction({ subcommand, options, ...extra });
  await handleSettings(interaction, settings.deps);
  return interaction.lastReply();
}

describe('/settings set', () => {
  it('saves the checked value in the option\'s type', async () => {
    expect(await run('set', { command: 'imagine', option: 'steps', value: '30' })).toBe('Saved: /imagine uses steps = 30 when you leave it out.');
    expect(await run('set', { command: '/imagine', option: 'size', value: 'wide' })).toMatch(/size = "wide"/);
    expect(settings.store.userDefaults('42', 'imagine')).toEqual({ steps: 30, size: 'wide' });
  });

  it('refuses bad values with the option\'s own message and saves nothing', async () => {
    expect(await run('set', { command: 'imagine', option: 'steps', value: 'lots' })).toBe('Not saved: steps must be a whole number (got "lots").');
    expect(await run('set', { command: 'imagine', option: 'model', value: 'x' })).toBe('Not saved: model is fixed by /imagine.');
    expect(await run('set', { command: 'paint', option: 'steps', value: '3' })).toBe('There is no command /paint.');
    expect(settings.store.userDefaults('42', 'imagine')).toEqual({});
  });

  it('refuses a text value the server blocks, with the server\'s reply', async () => {
    settings.store.setGuildSettings('1', { blockedWords: ['gore'], blockedReply: 'Not on this server.' });
    expect(await run('set', { command: 'imagine', option: 'negative', value: 'GORE' })).toBe('Not on this server.');
    expect(await run('set', { command: 'imagine', option: 'negative', value: 'gore' }, { guildId: null })).toMatch(/^Saved/);
  });

  it('drops stale saved values when saving', async () => {
    settings.store.setUserDefaults('42', 'imagine', { gone: 1, steps: 10 });
    await run('set', { command: 'imagine', option: 'cfg', value: '8' });
    expect(settings.store.userDefaults('42', 'imagine')).toEqual({ steps: 10, cfg: 8 });
  });
});

describe('/settings show', () => {
  it('lists saved values per command and flags the ones no longer used', async () => {
    settings.store.setUserDefaults('42', 'imagine', { steps: 30, gone: 'x' });
    expect(await run('show')).toBe('/imagine: steps = 30\n  no longer used: gone (/imagine no longer has an option "gone")');
    expect(await run('show', { command: 'upscale' })).toBe('/upscale: nothing saved.');
  });

  it('says when nothing is saved', async () => {
    expect(await run('show')).toBe('You have no saved values. Save one with /settings set.');
  });
});

describe('/settings clear', () => {
  it('clears one option or all of a command', async () => {
    settings.store.setUserDefaults('42', 'imagine', { steps: 30, cfg: 8 });
    expect(await run('clear', { command: 'imagine', option: 'steps' })).toBe('Cleared steps of /imagine.');
    expect(settings.store.userDefaults('42', 'imagine')).toEqual({ cfg: 8 });
    expect(await run('clear', { command: 'imagine' })).toBe('Cleared your saved values for /imagine.');
    expect(settings.store.userDefaults('42', 'imagine')).toEqual({});
  });

  it('says when there is nothing to clear', async () => {
    expect(await run('clear', { command: 'imagine', option: 'steps' })).toBe('You have no saved value for steps of /imagine.');
  });
});

it('answers an unknown subcommand plainly', async () => {
  expect(await run('export')).toBe('Unknown /settings subcommand "export".');
});

describe('settingsAutocomplete', () => {
  it('suggests commands, and the options of the chosen command that can be saved', () => {
    expect(settingsAutocomplete({ name: 'command', value: 'ima' }, null, commands)).toEqual([{ name: 'imagine', value: 'imagine' }]);
    const options = settingsAutocomplete({ name: 'option', value: '' }, 'imagine', commands).map((choice) => choice.value);
    expect(options).toEqual(['negative', 'steps', 'seed', 'cfg', 'hires', 'size', 'sampler']);
  });

  it('suggests nothing for an unknown command or field', () => {
    expect(settingsAutocomplete({ name: 'option', value: '' }, 'paint', commands)).toEqual([]);
    expect(settingsAutocomplete({ name: 'value', value: '' }, 'imagine', commands)).toEqual([]);
  });
});

describe('/settings mode', () => {
  it('keeps the member\'s mode, says where relax is not allowed, and refuses a mode that does not exist', async () => {
    expect(settings.store.userMode('42')).toBe('fast');
    expect(await run('mode', { mode: 'relax' })).toBe(
      'Your jobs now run in relax where it is allowed: after every fast job, and not counted in your fast GPU time. Relax is not allowed here, so your jobs here still run fast.',
    );
    expect(settings.store.userMode('42')).toBe('relax');
    settings.store.setGuildSettings('1', { allowRelax: true });
    expect(await run('mode', { mode: 'relax' })).toBe('Your jobs now run in relax where it is allowed: after every fast job, and not counted in your fast GPU time.');
    expect(await run('mode', { mode: 'slow' })).toBe('"slow" is not a mode; choose fast or relax.');
    expect(settings.store.userMode('42')).toBe('relax');
    expect(await run('mode', { mode: 'fast' })).toMatch(/^Your jobs now run fast/);
    expect(settings.store.userMode('42')).toBe('fast');
  });
});
