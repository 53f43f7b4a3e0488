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
