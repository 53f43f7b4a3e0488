import { afterAll, describe, expect, it } from 'vitest';
import { PatternWorker } from './patternWorker.js';
import { MAX_PATTERN_LENGTH, PatternSet, patternProblem, stopPatternWorker } from './patterns.js';

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
  const worker = new PatternWorker();
  afterAll(() => worker.close());

  it('reports the first matching pattern and text, case-insensitively', async () => {
    const set = new PatternSet(['dog', 'c[a@]t', 'é+t'], worker);
    expect(await set.firstMatch(['nothing', 'A C@T'])).toEqual({ match: { pattern: 'c[a@]t', text: 1 }, disabled: [] });
    expect(await set.firstMatch(['ÉÉT'])).toEqual({ match: { pattern: 'é+t', text: 0 }, disabled: [] });
    expect(await set.firstMatch(['bird'])).toEqual({ match: null, disabled: [] });
  });

  it('runs catastrophic-backtracking shapes on long prompts off the main thread, answering correctly', async () => {
    const set = new PatternSet(['^(a+)+$', '(\\w+\\s?)*!x'], worker);
    expect(await set.firstMatch(['a'.repeat(6000) + '!', 'b '.repeat(3000)])).toEqual({ match: null, disabled: [] });
    expect(await set.firstMatch(['aaaa'])).toEqual({ match: { pattern: '^(a+)+$', text: 0 }, disabled: [] });
  });

  it('takes a stored pattern RE2 cannot run out of use, once, and keeps checking with the others', async () => {
    const set = new PatternSet(['cat(?=s)', 'dogs?'], worker);
    expect(await set.firstMatch(['cats and dogs'])).toEqual({
      match: { pattern: 'dogs?', text: 0 },
      disabled: [{ pattern: 'cat(?=s)', reason: expect.stringMatching(/^not a pattern this bot can run: .*lookaround/) }],
    });
    expect(await set.firstMatch(['cats'])).toEqual({ match: null, disabled: [] });
  });

  it('disables the pattern a check passed the hard limit on, and checks the prompt again without it', async () => {
    // A limit no fresh worker can meet (starting the thread alone takes longer): each check times out on the
    // first pattern left, which is disabled, and the prompt is checked again without it by a new worker, until
    // none is left. A timed-out pattern refuses nobody.
    const strict = new PatternWorker(0);
    try {
      const set = new PatternSet(['slow', 'cat'], strict);
      expect(await set.firstMatch(['a cat'])).toEqual({
        match: null,
        disabled: [
          { pattern: 'slow', reason: 'checking one prompt took over 0 ms' },
          { pattern: 'cat', reason: 'checking one prompt took over 0 ms' },
        ],
      });
    } finally {
      await strict.close();
    }
  });
});

describe('the shared pattern worker', () => {
  it('starts with the first check when nothing warmed it, and starts again after being stopped', async () => {
    // A bot whose servers had no patterns at start-up never started the thread: stopping it is a no-op.
    await stopPatternWorker();
    const set = new PatternSet(['\\bdragons?\\b']);
    expect((await set.firstMatch(['a cat', 'a red Dragon'])).match).toEqual({ pattern: '\\bdragons?\\b', text: 1 });
    await stopPatternWorker();
    expect((await set.firstMatch(['two dragons'])).match).toEqual({ pattern: '\\bdragons?\\b', text: 0 });
    await stopPatternWorker();
  });
});
