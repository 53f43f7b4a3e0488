import { describe, expect, it } from 'vitest';
import { RegexWordMatcher } from '../../test/policy/regex-word-matcher.js';
import { foldedForms } from './fold.js';
import { WordMatcher } from './wordMatcher.js';

const match = (words: readonly string[], prompt: string) => new WordMatcher(words).firstMatch(foldedForms(prompt));

function randomSource(seed: number) {
  let state = seed;
  return (n: number) => {
    state = (Math.imul(state, 1103515245) + 12345) & 0x7fffffff;
    return Math.floor((state / 0x80000000) * n);
  };
}

describe('WordMatcher', () => {
  it('matches whole words only: a letter, digit or mark touching either end breaks it, anything else does not', () => {
    expect(match(['nude'], 'a nude statue')).toBe('nude');
    expect(match(['nude'], '(nude), "nude"; nude_girl; nude.')).toBe('nude');
    expect(match(['nude'], 'denuded nudes nude2 2nude')).toBeNull();
    expect(match(['नमस्ते'], 'नमस्ते दुनिया')).toBe('नमस्ते');
    expect(match(['cafe'], 'cafe\u0327s')).toBeNull(); // a kept mark is part of the word
  });

  it('matches words made of symbols exactly, with the same boundaries', () => {
    expect(match(['c++'], 'learn c++ today')).toBe('c++');
    expect(match(['c++'], 'c+++, (c++)')).toBe('c++');
    expect(match(['c++'], 'c++x xc++ c + + cxx')).toBeNull();
    expect(match(['+1'], 'a +1 b')).toBe('+1');
    expect(match(['+1'], 'a+1 b')).toBeNull();
    expect(match(['🍑'], 'a 🍑 here')).toBe('🍑');
    expect(match(['🍑'], 'a🍑')).toBeNull();
  });

  it('matches phrases across any run of whitespace, not across other characters or none', () => {
    expect(match(['blood bath'], 'a blood\t \n bath')).toBe('blood bath');
    expect(match(['blood bath'], 'bloodbath blood-bath blood')).toBeNull();
    expect(match(['big red dog', 'red'], 'a big red cat')).toBe('red');
    expect(match(['a b c', 'b d'], 'a b d')).toBe('b d');
    expect(match(['one two three'], 'one two one two three')).toBe('one two three');
  });

  it('catches the documented disguises, in phrases too', () => {
    for (const disguised of ['ＮＵＤＥ', 'nüde', 'nu\u200bde', 'nu\u00adde', 'n u d e', 'n.u.d.e', 'n_u_d_e', 'nud3', 'n-u-d-3', 'nu\u0301de']) {
      expect(match(['nude'], `a ${disguised} person`), disguised).toBe('nude');
    }
    expect(match(['blood bath'], 'bl00d   bath')).toBe('blood bath');
    expect(match(['kill', 'lewd'], 'k1ll')).toBe('kill');
    expect(match(['kill', 'lewd'], '1ewd')).toBe('lewd');
    expect(match(['nude'], 'nuuude, nudе (Cyrillic е), 1337, 4 7')).toBeNull();
  });

  it('ignores words that fold to nothing', () => {
    expect(match(['\u0301\u200b'], 'anything')).toBeNull();
    expect(new WordMatcher(['\u0301\u200b', 'gore']).size).toBe(1);
  });

  it('agrees with the regex matcher it replaced on random prompts and lists', () => {
    const random = randomSource(5);
    const alphabet = ['a', 'b', 'n', 'u', 'd', 'e', 'c', ' ', '  ', '\n', '.', '-', '_', '+', '3', '1', '0', '@', 'ü', '\u200b', 'x', 'é', '🍑'];
    const text = (length: number) => Array.from({ length }, () => alphabet[random(alphabet.length)]).join('');
    let blocked = 0;
    for (let round = 0; round < 300; round++) {
      const words = Array.from({ length: 1 + random(6) }, () => text(1 + random(4)).trim()).filter((word) => word !== '');
      const forms = foldedForms(text(5 + random(40)));
      const expected = new RegexWordMatcher(words).blocks(forms);
      if (expected) blocked++;
      expect(new WordMatcher(words).firstMatch(forms) !== null, JSON.stringify({ words, forms })).toBe(expected);
    }
    // Both outcomes were exercised.
    expect(blocked).toBeGreaterThan(30);
    expect(blocked).toBeLessThan(270);
  });

  describe('with a 10,000-word list', () => {
    const random = randomSource(9);
    // Single words never hold a "z", each part of a phrase ends in one: no part of a phrase is a word of its own.
    const letters = 'abcdefghijklmnopqrstuvwxy';
    const word = () => Array.from({ length: 4 + random(7) }, () => letters[random(letters.length)]).join('');
    const words = [...new Set(Array.from({ length: 10_500 }, (_, i) => (i % 10 === 0 ? `${word()}z ${word()}z` : word())))].slice(0, 10_000);
    const matcher = new WordMatcher(words);
    const blockedSet = new Set(words);
    const innocent = Array.from({ length: 1500 }, () => word())
      .filter((w) => !blockedSet.has(w))
      .join(' ')
      .slice(0, 6000)
      .trimEnd();

    it('finds any word or phrase of the list, at the end of a maximum-length prompt', () => {
      for (const index of [0, 1, 4_999, 9_990, 9_999]) {
        const term = words[index]!;
        const prompt = `${innocent.slice(0, 6000 - term.length - 1)} ${term}`;
        expect(matcher.firstMatch(foldedForms(prompt)), term).toBe(term);
      }
      const spelled = [...words[9_999]!].join(' ');
      expect(matcher.firstMatch(foldedForms(`x ${spelled}`))).toBe(words[9_999]);
    });

    it('passes a maximum-length prompt without any of them, and hostile shapes of that length', () => {
      expect(innocent.length).toBeGreaterThan(5900);
      // A prompt made of the first words of phrases, never followed by their second words.
      const firsts = words.filter((w) => w.includes(' ')).map((w) => w.split(' ')[0]!).filter((w) => !blockedSet.has(w));
      for (const prompt of [innocent, firsts.join(' ').slice(0, 6000), 'a '.repeat(3000), 'a.'.repeat(3000), '1'.repeat(6000), '🍑'.repeat(3000)]) {
        const found = matcher.firstMatch(foldedForms(prompt));
        if (found !== null) expect(prompt).toContain(found.split(' ')[0]); // only a real match may be reported
        else expect(found).toBeNull();
      }
      expect(matcher.firstMatch(foldedForms(innocent))).toBeNull();
    });
  });
});
