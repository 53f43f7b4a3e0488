import { afterEach, describe, expect, it } from 'vitest';
import type { JobStore } from '../../src/jobs/store.js';
import { ENGINES } from './engines.js';
import { tempDataDir } from './helpers.js';

describe.each(ENGINES)('on $name', (engine) => {
  let store: JobStore;
  let dataDir: string;
  afterEach(() => store.close());

  function setup(): JobStore {
    dataDir = tempDataDir();
    store = engine.open({ dataDir });
    return store;
  }

  /** Write a row behind the store's back, as a hand edit or an older bot might have. */
  function writeRaw(sql: string): void {
    engine.raw(dataDir, sql);
  }

  describe('guild settings', () => {
    it('has defaults for a guild never configured', () => {
      expect(setup().guildSettings('1')).toEqual({
        commands: {},
        roleLimits: {},
        moderatorRoles: [],
        spoilerResults: false,
        gridOriginals: false,
        blockedWords: [],
        blockedPatterns: [],
        blockedReply: null,
        queue: 'open',
        allowRelax: null,
      });
    });

    it("hands every unconfigured guild the same defaults, which no caller can change for the others", () => {
      const s = setup();
      const one = s.guildSettings('1');
      expect(s.guildSettings('2')).toBe(one);
      expect(() => (one.moderatorRoles as string[]).push('30')).toThrow(TypeError);
      expect(() => Object.assign(one, { spoilerResults: true })).toThrow(TypeError);
      expect(s.guildSettings('2')).toMatchObject({ moderatorRoles: [], spoilerResults: false });
      // saving settings for one of them gives that guild its own
      s.setGuildSettings('1', { moderatorRoles: ['30'] });
      expect(s.guildSettings('1').moderatorRoles).toEqual(['30']);
      expect(s.guildSettings('2').moderatorRoles).toEqual([]);
    });

    it('lists the guilds that have settings', () => {
      const s = setup();
      expect(s.guildIds()).toEqual([]);
      s.setGuildSettings('20', { queue: 'paused' });
      s.setGuildSettings('10', { spoilerResults: true });
      expect(s.guildIds()).toEqual(['10', '20']);
      expect(s.guildSettings('20').queue).toBe('paused');
    });

    it('replaces the given top-level settings and keeps the others', () => {
      const s = setup();
      s.setGuildSettings('1', {
        commands: { imagine: { channels: ['10'], roles: ['20'] } },
        roleLimits: { '30': { dailyQuota: 50, perUserRunning: 2 } },
        moderatorRoles: ['40'],
        blockedWords: ['gore'],
        blockedPatterns: ['\\bnsfw\\b'],
        blockedReply: 'Not here, please.',
      });
      const after = s.setGuildSettings('1', { spoilerResults: true });
      expect(after).toMatchObject({ spoilerResults: true, moderatorRoles: ['40'], blockedWords: ['gore'] });
      expect(s.guildSettings('1')).toEqual(after);
      expect(s.guildSettings('1').roleLimits).toEqual({ '30': { dailyQuota: 50, perUserRunning: 2 } });
      expect(s.guildSettings('2').spoilerResults).toBe(false);
    });

    it('rejects bad values, naming each setting, and keeps the old settings', () => {
      const s = setup();
      s.setGuildSettings('1', { blockedWords: ['gore'] });
      expect(() =>
        s.setGuildSettings('1', {
          blockedPatterns: ['(unclosed'],
          moderatorRoles: ['mods'],
          roleLimits: { '30': { dailyQuota: -1 } },
        }),
      ).toThrow(
        /^invalid settings for guild 1: roleLimits\.30\.dailyQuota: .*; moderatorRoles\.0: must be a Discord id \(digits\); blockedPatterns\.0: not a valid regular expression: .*/,
      );
      expect(() => s.setGuildSettings('1', { colour: 'red' } as never)).toThrow(/invalid settings for guild 1: .*colour/);
      expect(s.guildSettings('1').blockedWords).toEqual(['gore']);
    });

    it("keeps the server caps out of a server's role limits (they are the bot operator's)", () => {
      const s = setup();
      expect(() => s.setGuildSettings('1', { roleLimits: { '30': { perGuildQueued: 100 } as never } })).toThrow(
        /^invalid settings for guild 1: roleLimits\.30: .*perGuildQueued/,
      );
    });
  });

  describe('reading guild settings for every job', () => {
    it('hands out the same parsed object while the stored text is unchanged, a new one once it changes anywhere', () => {
      const s = setup();
      s.setGuildSettings('1', { blockedWords: ['gore'] });
      const first = s.guildSettings('1');
      expect(s.guildSettings('1')).toBe(first);
      const written = s.setGuildSettings('1', { blockedWords: ['gore', 'blood'] });
      const second = s.guildSettings('1');
      expect(second).not.toBe(first);
      expect(second).toBe(written);
      expect(second.blockedWords).toEqual(['gore', 'blood']);
      // Written by another process (a second store, a hand edit): seen at once.
      writeRaw(`UPDATE guild_settings SET settings = '{"blockedWords":["mud"]}' WHERE guild_id = '1'`);
      expect(s.guildSettings('1').blockedWords).toEqual(['mud']);
    });
  });

  describe('damaged stored settings', () => {
    it('reports invalid JSON and invalid values with the guild or user they belong to', () => {
      const s = setup();
      writeRaw("INSERT INTO guild_settings VALUES ('1', '{not json', 0)");
      expect(() => s.guildSettings('1')).toThrow(/^stored settings of guild 1 are not valid JSON: /);
      writeRaw("INSERT INTO guild_settings VALUES ('2', '{\"spoilerResults\":\"yes\"}', 0)");
      expect(() => s.guildSettings('2')).toThrow(/^invalid stored settings of guild 2: spoilerResults: /);
      writeRaw("INSERT INTO user_defaults VALUES ('u', 'imagine', '[1', 0)");
      expect(() => s.userDefaults('u', 'imagine')).toThrow(/^stored \/imagine defaults of user u are not valid JSON: /);
    });
  });

  describe('user defaults', () => {
    it('sets, replaces and clears per user and command', () => {
      const s = setup();
      expect(s.userDefaults('u', 'imagine')).toEqual({});
      s.setUserDefaults('u', 'imagine', { steps: 30, sampler: 'euler', hires: true });
      s.setUserDefaults('u', 'upscale', { factor: 2 });
      expect(s.userDefaults('u', 'imagine')).toEqual({ steps: 30, sampler: 'euler', hires: true });
      s.setUserDefaults('u', 'imagine', { steps: 12 });
      expect(s.userDefaults('u', 'imagine')).toEqual({ steps: 12 });
      s.setUserDefaults('u', 'imagine', null);
      expect(s.userDefaults('u', 'imagine')).toEqual({});
      expect(s.userDefaults('u', 'upscale')).toEqual({ factor: 2 });
      s.setUserDefaults('u', 'upscale', {});
      expect(s.userDefaults('u', 'upscale')).toEqual({});
    });

    it('rejects values that are not plain option values', () => {
      const s = setup();
      expect(() => s.setUserDefaults('u', 'imagine', { steps: { nested: 1 } } as never)).toThrow(
        /^invalid \/imagine defaults for user u: steps: /,
      );
      expect(s.userDefaults('u', 'imagine')).toEqual({});
    });
  });
});
