import { describe, expect, it } from 'vitest';
import { limitsSchema } from '../config/schema.js';
import { guildSettingsSchema } from '../jobs/store-settings.js';
import { resolveLimits } from '../scheduler/limits.js';
import { guildLimitOverrides, limitOverridesFor, memberLimits, spoilerResults } from './limits.js';

const limits = limitsSchema.parse({ perUserRunning: 1, perUserQueued: 3, minIntervalSeconds: 30 });
const settings = guildSettingsSchema.parse({
  roleLimits: { '100': { perUserQueued: 5, minIntervalSeconds: 10 }, '200': { perUserQueued: 8, dailyQuota: 50 } },
  spoilerResults: true,
});
const owner = (roles: string[], guildId: string | null = '1') => ({ userId: '9', guildId, roles });

describe('guild role limits', () => {
  it('become overrides scoped to the guild and role', () => {
    expect(guildLimitOverrides('1', settings)).toEqual([
      { guild: '1', role: '100', perUserQueued: 5, minIntervalSeconds: 10 },
      { guild: '1', role: '200', perUserQueued: 8, dailyQuota: 50 },
    ]);
  });

  it('follow the configured overrides, and are left out in DMs', () => {
    const config = [{ role: '100', perUserRunning: 2 }];
    expect(limitOverridesFor(config, '1', settings)).toHaveLength(3);
    expect(limitOverridesFor(config, null, null)).toEqual(config);
  });

  it('leave members without a limited role on the configured limits', () => {
    expect(memberLimits({ limits, limitOverrides: [], settings, owner: owner(['300']), command: 'imagine' })).toEqual(limits);
  });

  it('give a member with several roles the most generous value of each field', () => {
    expect(memberLimits({ limits, limitOverrides: [], settings, owner: owner(['100', '200']), command: 'imagine' })).toEqual({
      perUserRunning: 1,
      perUserQueued: 8,
      minIntervalSeconds: 10,
      dailyQuota: 50,
    });
  });

  it('yield to a config override that also names the command', () => {
    const config = [{ guild: '1', role: '200', command: 'imagine', perUserQueued: 2 }];
    expect(memberLimits({ limits, limitOverrides: config, settings, owner: owner(['200']), command: 'imagine' }).perUserQueued).toBe(2);
    expect(memberLimits({ limits, limitOverrides: config, settings, owner: owner(['200']), command: 'upscale' }).perUserQueued).toBe(8);
  });

  it('do not apply in another guild when one override list serves several guilds', () => {
    const overrides = limitOverridesFor([], '1', settings);
    expect(resolveLimits(limits, overrides, { owner: owner(['100'], '2'), command: 'imagine' }).perUserQueued).toBe(3);
    expect(resolveLimits(limits, overrides, { owner: owner(['100'], '1'), command: 'imagine' }).perUserQueued).toBe(5);
  });
});

describe('spoilerResults', () => {
  it('follows the guild setting and is off in DMs', () => {
    expect(spoilerResults(settings)).toBe(true);
    expect(spoilerResults(guildSettingsSchema.parse({}))).toBe(false);
    expect(spoilerResults(null)).toBe(false);
  });
});
