import { describe, expect, it } from 'vitest';
import { commandFixture } from '../../test/policy/command-fixture.js';
import { OptionError } from '../templates/errors.js';
import { applyDefaults, checkDefault, checkDefaults } from './defaults.js';

const imagine = commandFixture();

describe('checkDefault', () => {
  it('turns text from /settings set into the option type', () => {
    expect(checkDefault(imagine, 'steps', '30')).toBe(30);
    expect(checkDefault(imagine, 'cfg', '7.5')).toBe(7.5);
    expect(checkDefault(imagine, 'hires', 'true')).toBe(true);
    expect(checkDefault(imagine, 'size', 'wide')).toBe('wide');
    expect(checkDefault(imagine, 'negative', 'blurry')).toBe('blurry');
    expect(checkDefault(imagine, 'sampler', 'euler')).toBe('euler');
  });

  it('keeps integers past 2^53 as decimal strings', () => {
    expect(checkDefault(imagine, 'seed', '18446744073709551615')).toBe('18446744073709551615');
  });

  it('refuses values the option would refuse, with its message', () => {
    expect(() => checkDefault(imagine, 'steps', '80')).toThrow('steps must be between 1 and 50 (got 80)');
    expect(() => checkDefault(imagine, 'cfg', '7.2')).toThrow('cfg must be in steps of 0.5');
    expect(() => checkDefault(imagine, 'size', 'tall')).toThrow('size must be one of square, wide');
  });

  it('refuses options that cannot carry a default', () => {
    expect(() => checkDefault(imagine, 'nope', 'x')).toThrow('/imagine no longer has an option "nope"');
    expect(() => checkDefault(imagine, 'model', 'x')).toThrow('model is fixed by /imagine');
    expect(() => checkDefault(imagine, 'init', 'x')).toThrow('init is an image; images cannot be saved');
    expect(() => checkDefault(imagine, 'prompt', 'x')).toThrow('prompt is required, so Discord always asks for it');
    expect(() => checkDefault(imagine, 'prompt', 'x')).toThrow(OptionError);
  });
});

describe('checkDefaults', () => {
  it('keeps what still fits and reports the rest', () => {
    expect(checkDefaults(imagine, { steps: 30, removed: 'x', cfg: 99 })).toEqual({
      valid: { steps: 30 },
      dropped: [
        { option: 'removed', reason: '/imagine no longer has an option "removed"' },
        { option: 'cfg', reason: 'cfg must be between 1 and 20 (got 99)' },
      ],
    });
  });
});

describe('applyDefaults', () => {
  it('lets explicit values win over saved ones, and leaves the rest to the command file', () => {
    const applied = applyDefaults(imagine, { prompt: 'a cat', steps: 12, cfg: null, hires: undefined }, { steps: 30, cfg: 9, gone: 1 });
    expect(applied.values).toEqual({ prompt: 'a cat', steps: 12, cfg: 9 });
    expect(applied.dropped).toEqual([{ option: 'gone', reason: '/imagine no longer has an option "gone"' }]);
  });

  it('passes explicit values through untouched for prepareJob to check', () => {
    expect(applyDefaults(imagine, { steps: 999 }, {}).values).toEqual({ steps: 999 });
  });
});
