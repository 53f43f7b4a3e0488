import { describe, expect, it } from 'vitest';
import { foldText, foldedForms } from './fold.js';

describe('foldText', () => {
  it('folds case, fullwidth forms, Latin accents and invisible characters', () => {
    expect(foldText('ＮÜ\u200bDE')).toBe('nude');
  });

  it('keeps marks of other scripts', () => {
    expect(foldText('नमस्ते')).toBe('नमस्ते'.normalize('NFKD'));
  });
});

describe('foldedForms', () => {
  it('reads look-alike digits as letters only inside words with letters', () => {
    expect(foldedForms('b00b 4k 1337').variants).toContain('boob ak 1337');
  });

  it('reads 1 as both i and l', () => {
    const { variants } = foldedForms('k1ll 1ewd');
    expect(variants).toContain('kill iewd');
    expect(variants).toContain('klll lewd');
  });

  it('joins letters spelled out with single separators, look-alikes included', () => {
    expect(foldedForms('a n.u.d.e picture').runs).toContain('anude');
    expect(foldedForms('a n u d 3 picture').runs).toContain('anude');
    expect(foldedForms('n_u_d_e').runs).toContain('nude');
  });

  it('gives the plain folded text first, without duplicates or runs when there are none', () => {
    expect(foldedForms('A cat')).toEqual({ variants: ['a cat'], runs: [] });
  });
});

describe('look-alike variants', () => {
  /** The first implementation: every whitespace-separated token holding a letter, mapped character by character. */
  const LEET: Record<string, string> = { '0': 'o', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's', '!': 'i' };
  const reference = (folded: string, one: string) =>
    folded.replace(/\S+/g, (token) => (/\p{L}/u.test(token) ? [...token].map((c) => (c === '1' ? one : (LEET[c] ?? c))).join('') : token));

  it('read every token exactly as the first, character-by-character implementation did', () => {
    let seed = 17;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return Math.floor((seed / 0x80000000) * n);
    };
    const alphabet = ['a', 'k', '1', '0', '3', '4', '5', '7', '@', '$', '!', '9', '-', ' ', '\u00a0', '\u3000', '\n', 'ж', '𐐨', '🍑', 'é'];
    for (let round = 0; round < 300; round++) {
      const text = Array.from({ length: 1 + random(30) }, () => alphabet[random(alphabet.length)]).join('');
      const folded = foldText(text);
      const expected = [...new Set([folded, reference(folded, 'i'), reference(folded, 'l')])];
      expect(foldedForms(text).variants, JSON.stringify(text)).toEqual(expected);
    }
  });
});

describe('spelled-out runs', () => {
  /** The first implementation: one regular expression with lookbehind, separators removed from each match. */
  const SPELLED_OUT = /(?<![\p{L}\p{N}])(?:[\p{L}\p{N}][\s.\-_*+]){2,}[\p{L}\p{N}](?![\p{L}\p{N}])/gu;
  const reference = (folded: string) => (folded.match(SPELLED_OUT) ?? []).map((run) => run.replace(/[\s.\-_*+]/g, ''));

  it('are found exactly where the first, regex implementation found them', () => {
    let seed = 23;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return Math.floor((seed / 0x80000000) * n);
    };
    // No look-alikes, so the runs come without variants.
    let withRuns = 0;
    const alphabet = ['a', 'b', 'z', '2', '9', ' ', ' ', '.', '-', '_', '*', '+', '\u00a0', '\n', ',', '?', 'ж', '𐐨', '🍑', '\u0915'];
    for (let round = 0; round < 500; round++) {
      const folded = foldText(Array.from({ length: 1 + random(25) }, () => alphabet[random(alphabet.length)]).join(''));
      const expected = reference(folded);
      if (expected.length > 0) withRuns++;
      expect(foldedForms(folded).runs, JSON.stringify(folded)).toEqual([...new Set(expected)]);
    }
    expect(withRuns).toBeGreaterThan(25);
  });
});

