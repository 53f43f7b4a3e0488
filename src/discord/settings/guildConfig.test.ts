import { describe, expect, it } from 'vitest';
import { commandFixture } from '../../../test/policy/command-fixture.js';
import { fakeInteraction, useSettingsWorld } from '../../../test/policy/fake-interaction.js';
import type { OptionValue } from './interaction.js';
import { handleComfyConfig, MAX_BLOCKED_PATTERNS } from './guildConfig.js';

const commands = new Map([['imagine', commandFixture()]]);
const settings = useSettingsWorld(commands);

async function run(subcommand: string, options: Record<string, OptionValue> = {}, extra: { permissions?: bigint; guildId?: string | null } = {}) {
  const interaction = fakeInteraction({ group: 'config', subcommand, options, ...extra });
  await handleComfyConfig(interaction, settings.deps);
  return interaction.lastReply();
}

describe('permission', () => {
  it('is checked again at run time: no Manage Server, no change', async () => {
    expect(await run('spoiler', { on: true }, { permissions: 0n })).toBe('You need the Manage Server permission to change these settings.');
    expect(settings.store.guildSettings('1').spoilerResults).toBe(false);
  });

  it('refuses DMs', async () => {
    expect(await run('show', {}, { guildId: null })).toBe('Server settings can only be changed in a server.');
  });

  it('accepts Administrator', async () => {
    expect(await run('spoiler', { on: true }, { permissions: 8n })).toBe('Results are now posted as spoilers.');
  });
});

describe('allow / disallow', () => {
  it('adds channels and roles to a command\'s lists without duplicates', async () => {
    expect(await run('allow', { command: 'imagine', channel: '10' })).toBe('/imagine is now allowed for <#10>.');
    await run('allow', { command: 'imagine', channel: '10', role: '20' });
    expect(settings.store.guildSettings('1').commands).toEqual({ imagine: { channels: ['10'], roles: ['20'] } });
  });

  it('can remove the rules of a command whose file is gone', async () => {
    settings.store.setGuildSettings('1', { commands: { old: { roles: ['20'] } } });
    expect(await run('disallow', { command: '/old' })).toBe('/old can now be used everywhere, by everyone.');
    expect(settings.store.guildSettings('1').commands).toEqual({});
  });

  it('needs a known command and a channel or role', async () => {
    expect(await run('allow', { channel: '10' })).toBe('Please give command.');
    expect(await run('allow', { command: 'paint', channel: '10' })).toBe('There is no command /paint.');
    expect(await run('allow', { command: 'imagine' })).toBe('Give a channel, a role, or both.');
  });

  it('removes one entry, reopening the command when its lists empty', async () => {
    await run('allow', { command: 'imagine', channel: '10', role: '20' });
    expect(await run('disallow', { command: 'imagine', channel: '10' })).toBe('Removed from /imagine.');
    expect(settings.store.guildSettings('1').commands).toEqual({ imagine: { roles: ['20'] } });
    expect(await run('disallow', { command: 'imagine', role: '20' })).toMatch(/can now be used everywhere, by everyone\.$/);
    expect(settings.store.guildSettings('1').commands).toEqual({});
  });

  it('removes every limit of a command when given neither', async () => {
    await run('allow', { command: 'imagine', channel: '10' });
    expect(await run('disallow', { command: 'imagine' })).toBe('/imagine can now be used everywhere, by everyone.');
    expect(settings.store.guildSettings('1').commands).toEqual({});
  });
});

describe('role-limits', () => {
  it('saves the given fields and keeps earlier ones', async () => {
    expect(await run('role-limits', { role: '20', queued: 5 })).toBe('Limits of <@&20> saved.');
    await run('role-limits', { role: '20', daily: 40, interval: 10 });
    expect(settings.store.guildSettings('1').roleLimits).toEqual({ '20': { perUserQueued: 5, dailyQuota: 40, minIntervalSeconds: 10 } });
  });

  it('resets a role', async () => {
    await run('role-limits', { role: '20', queued: 5 });
    expect(await run('role-limits', { role: '20', reset: true })).toBe('<@&20> now has the bot\'s standard limits.');
    expect(settings.store.guildSettings('1').roleLimits).toEqual({});
  });

  it('needs a limit, and reports values the store refuses', async () => {
    expect(await run('role-limits', { role: '20' })).toMatch(/^Give at least one limit/);
    expect(await run('role-limits', { role: '20', running: 0 })).toMatch(/^Not saved: .*roleLimits\.20\.perUserRunning: must be a positive integer/);
  });
});

describe('moderators and spoilers', () => {
  it('adds and removes moderator roles', async () => {
    expect(await run('moderator-add', { role: '30' })).toBe('<@&30> is now a moderator role.');
    await run('moderator-add', { role: '30' });
    expect(settings.store.guildSettings('1').moderatorRoles).toEqual(['30']);
    expect(await run('moderator-remove', { role: '31' })).toBe('<@&31> is not a moderator role.');
    expect(await run('moderator-remove', { role: '30' })).toBe('<@&30> is no longer a moderator role.');
    expect(settings.store.guildSettings('1').moderatorRoles).toEqual([]);
  });

  it('attaches a batch\'s originals under its grid, and stops, and shows the choice', async () => {
    expect(await run('originals', { on: true })).toBe("A batch's original files are now attached under its grid.");
    expect(settings.store.guildSettings('1').gridOriginals).toBe(true);
    expect(await run('show', {})).toContain('Batch originals under the grid: on');
    expect(await run('originals', {})).toBe('Say on: True or on: False.');
    expect(await run('originals', { on: false })).toBe("A batch's original files now come with its Files button only.");
    expect(settings.store.guildSettings('1').gridOriginals).toBe(false);
  });

  it('allows relax mode and stops; show says whether it is the bot default', async () => {
    expect(await run('show', {})).toContain("Relax mode: not allowed (the bot's default)");
    expect(await run('relax', {})).toBe('Say on: True or on: False.');
    expect(await run('relax', { on: true })).toMatch(/^Relax mode is now allowed here/);
    expect(settings.store.guildSettings('1').allowRelax).toBe(true);
    expect(await run('show', {})).toMatch(/^Relax mode: allowed$/m);
    expect(await run('relax', { on: false })).toMatch(/^Relax mode is now off here/);
    expect(settings.store.guildSettings('1').allowRelax).toBe(false);
  });

  it('turns spoilers off again', async () => {
    await run('spoiler', { on: true });
    expect(await run('spoiler', { on: false })).toBe('Results are no longer posted as spoilers.');
    expect(settings.store.guildSettings('1').spoilerResults).toBe(false);
  });
});

describe('block / unblock / reply', () => {
  it('blocks and unblocks words case-insensitively', async () => {
    expect(await run('block', { word: ' Gore ' })).toBe('Prompts with the word `Gore` are now refused.');
    expect(await run('block', { word: 'gore' })).toBe('`gore` is already blocked.');
    expect(await run('unblock', { word: 'GORE' })).toBe('`GORE` is no longer blocked.');
    expect(await run('unblock', { word: 'gore' })).toBe('`gore` is not a blocked word.');
    expect(settings.store.guildSettings('1').blockedWords).toEqual([]);
  });

  it('refuses words with nothing visible to match', async () => {
    expect(await run('block', { word: '\u0301\u200b' })).toMatch(/^That word has no visible letters/);
    expect(settings.store.guildSettings('1').blockedWords).toEqual([]);
  });

  it('needs exactly one of word and pattern', async () => {
    expect(await run('block', {})).toBe('Give either a word or a pattern.');
    expect(await run('block', { word: 'a', pattern: 'b' })).toBe('Give either a word or a pattern.');
  });

  it('refuses patterns the bot cannot run, with the reason; backtracking shapes are harmless here', async () => {
    expect(await run('block', { pattern: 'cat(?=s)' })).toMatch(/^Pattern not added: not a pattern this bot can run: .*lookaround/);
    expect(await run('block', { pattern: '(' })).toMatch(/^Pattern not added: not a pattern this bot can run: missing closing \)/);
    expect(await run('block', { pattern: '(a+)+$' })).toBe('Prompts matching `(a+)+$` are now refused.');
    expect(await run('block', { pattern: 'sk(y|ies)' })).toBe('Prompts matching `sk(y|ies)` are now refused.');
    expect(settings.store.guildSettings('1').blockedPatterns).toEqual(['(a+)+$', 'sk(y|ies)']);
  });

  it('caps the pattern list', async () => {
    settings.store.setGuildSettings('1', { blockedPatterns: Array.from({ length: MAX_BLOCKED_PATTERNS }, (_, i) => `p${i}`) });
    expect(await run('block', { pattern: 'more' })).toBe(`The list already has ${MAX_BLOCKED_PATTERNS} patterns; unblock some first.`);
  });

  it('sets and resets the reply to refused prompts', async () => {
    expect(await run('reply', { text: 'Keep it clean.' })).toBe('Refused prompts now get your answer.');
    expect(settings.store.guildSettings('1').blockedReply).toBe('Keep it clean.');
    expect(await run('reply', {})).toBe('Refused prompts now get the standard answer.');
    expect(settings.store.guildSettings('1').blockedReply).toBeNull();
  });
});

describe('show', () => {
  it('lists every setting with mentions', async () => {
    await run('allow', { command: 'imagine', channel: '10' });
    await run('role-limits', { role: '20', running: 2, daily: 9 });
    await run('block', { word: 'gore' });
    const text = await run('show');
    expect(text).toContain('/imagine: in <#10>, by everyone');
    expect(text).toContain('<@&20>: 2 running, 9 a day');
    expect(text).toContain('Blocked words: `gore`');
    expect(text).toContain('Results as spoilers: off');
  });
});

it('answers an unknown subcommand plainly', async () => {
  expect(await run('nuke')).toBe('Unknown /comfy config subcommand "nuke".');
});
