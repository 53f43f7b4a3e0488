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
    expect(patternProblem('(abc')).toMatch(/^not a valid regular expression/);
  });

  it('refuses backreferences', () => {
    expect(patternProblem('(a)\\1')).toMatch(/backreferences/);
    expect(patternProblem('(?<x>a)\\k<x>')).toMatch(/backreferences/);
  });

  it('refuses repeated groups holding a repetition or alternatives', () => {
    expect(patternProblem('(a+)+$')).toMatch(/repeated group \(a\+\)\+ contains/);
    expect(patternProblem('(\\w+\\s?)*x')).toMatch(/exponential/);
    expect(patternProblem('(a|ab)*c')).toMatch(/exponential/);
    expect(patternProblem('((ab)?c){2,}')).toMatch(/exponential/);
  });

  it('does not read syntax inside character classes or escapes as repetition', () => {
    expect(patternProblem('([+*|])+')).toBeNull();
    expect(patternProblem('(\\+)+')).toBeNull();
  });
});

describe('PatternSet', () => {
  it('reports the first matching pattern and text, case-insensitively', () => {
    const set = new PatternSet(['dog', 'c[a@]t']);
    expect(set.firstMatch(['nothing', 'A C@T'])).toEqual({ matched: true, pattern: 'c[a@]t', text: 1 });
    expect(set.firstMatch(['bird'])).toEqual({ matched: false });
  });

  it('gives up on a catastrophic pattern within its budget', () => {
    const set = new PatternSet(['^(a+)+$'], 20);
    const started = performance.now();
    expect(set.firstMatch(['a'.repeat(40) + '!'])).toEqual({ timedOut: true });
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
