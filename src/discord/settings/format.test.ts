import { describe, expect, it } from 'vitest';
import { guildSettingsSchema } from '../../jobs/store-settings.js';
import { formatDefaults, formatGuildSettings, refusalMessage } from './format.js';

describe('refusalMessage', () => {
  it('names the allowed channels as mentions', () => {
    expect(refusalMessage({ ok: false, reason: 'channel', command: 'imagine', channelIds: ['10', '11'] })).toBe(
      '/imagine can only be used in <#10>, <#11>.',
    );
  });

  it('names the needed role, or roles', () => {
    expect(refusalMessage({ ok: false, reason: 'role', command: 'imagine', roleIds: ['20'] })).toBe('To use /imagine you need the role <@&20>.');
    expect(refusalMessage({ ok: false, reason: 'role', command: 'imagine', roleIds: ['20', '21'] })).toBe(
      'To use /imagine you need one of these roles: <@&20>, <@&21>.',
    );
  });
});

describe('formatDefaults', () => {
  it('quotes text, and lists dropped values with their reason', () => {
    expect(formatDefaults('imagine', { negative: 'blurry', steps: 30 }, [{ option: 'x', reason: 'gone' }])).toBe(
      '/imagine: negative = "blurry", steps = 30\n  no longer used: x (gone)',
    );
  });
});

describe('formatGuildSettings', () => {
  it('describes a guild with nothing set', () => {
    const text = formatGuildSettings(guildSettingsSchema.parse({}), false);
    expect(text).toContain('Commands: usable everywhere, by everyone.');
    expect(text).toContain('Moderator roles: none');
    expect(text).toMatch(/Reply to a blocked prompt: \(standard\) /);
    expect(text).toContain("This server's jobs: taken as usual");
    expect(formatGuildSettings(guildSettingsSchema.parse({ queue: 'paused' }), false)).toContain("This server's jobs: paused (they wait until /comfy resume)");
  });
});
