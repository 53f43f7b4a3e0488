import { describe, expect, it } from 'vitest';
import { MAX_PATTERN_LENGTH, PatternSet, patternProblem } from './patterns.js';

describe('patternProblem', () => {
  it('accepts ordinary patterns', () => {
    for (const ok of ['cat(s)?', '\\bgore\\b', '[a-z ]+ing', '(very )+big', '(?:red|blue) car', 'x{2,4}']) {
      expect(patternProblem(ok), ok).toBeNull();
    }
  });

  it('refuses empty, too long and invalid patterns', () => {
    expect(patternProblem('')).toBe('the pattern is empty');
    expect(patternProblem('a'.repeat(MAX_PATTERN_LENGTH + 1))).toMatch(/201 characters; the limit is 200/);
    expect(patternProblem('(abc')).toBe('not a pattern this bot can run: missing closing ): `(abc` (lookaround and backreferences are not supported)');
  });

  it('refuses what RE2 cannot run: backreferences and lookaround', () => {
    expect(patternProblem('(a)\\1')).toMatch(/^not a pattern this bot can run: invalid escape sequence/);
    expect(patternProblem('cat(?!s)')).toMatch(/lookaround and backreferences are not supported/);
  });

  it('accepts the shapes that backtrack catastrophically elsewhere: they run in linear time here', () => {
    for (const shape of ['(a+)+$', '(\\w+\\s?)*x', '(a|ab)*c', '((ab)?c){2,}']) expect(patternProblem(shape), shape).toBeNull();
  });

  it('refuses a pattern whose program is too large', () => {
    expect(patternProblem('[a-z]{1,1000}x')).toMatch(/too complex \(\d+ steps; the limit is 1000\)/);
  });

});

describe('PatternSet', () => {
  it('reports the first matching pattern and text, case-insensitively', () => {
    const set = new PatternSet(['dog', 'c[a@]t', 'é+t']);
    expect(set.firstMatch(['nothing', 'A C@T'])).toEqual({ match: { pattern: 'c[a@]t', text: 1 }, disabled: [] });
    expect(set.firstMatch(['ÉÉT'])).toEqual({ match: { pattern: 'é+t', text: 0 }, disabled: [] });
    expect(set.firstMatch(['bird'])).toEqual({ match: null, disabled: [] });
  });

  it('runs a catastrophic-backtracking pattern on a long prompt without blocking', () => {
    const set = new PatternSet(['^(a+)+$', '(\\w+\\s?)*!x']);
    const text = 'a'.repeat(6000) + '!';
    set.firstMatch([text]); // compiles the automaton's states
    const started = performance.now();
    expect(set.firstMatch([text, 'b '.repeat(3000)])).toEqual({ match: null, disabled: [] });
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('takes a pattern that is slow again and again out of use, reporting it once, instead of refusing prompts', () => {
    let clock = 0;
    const slow = new PatternSet(['cat', 'dog'], () => (clock += 20));
    expect(slow.firstMatch(['a cat'])).toEqual({ match: { pattern: 'cat', text: 0 }, disabled: [] });
    expect(slow.firstMatch(['a cat'])).toEqual({ match: { pattern: 'cat', text: 0 }, disabled: [] });
    const reason = 'checking a prompt took over 5 ms 3 times (the last took 20 ms)';
    expect(slow.firstMatch(['a cat'])).toEqual({ match: null, disabled: [{ pattern: 'cat', reason }] });
    expect(slow.firstMatch(['a dog'])).toEqual({ match: { pattern: 'dog', text: 0 }, disabled: [] });
  });
});
