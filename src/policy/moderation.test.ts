import { describe, expect, it } from 'vitest';
import { guildSettingsSchema } from '../jobs/store-settings.js';
import { commandFixture } from '../../test/policy/command-fixture.js';
import type { DisabledPattern } from './patterns.js';
import { checkPrompt, DEFAULT_BLOCKED_REPLY, promptOptionNames } from './moderation.js';

const settings = (input: Record<string, unknown>) => guildSettingsSchema.parse(input);
const words = settings({ blockedWords: ['nude', 'blood bath', 'c++'], blockedReply: 'Not here, please.' });

describe('checkPrompt', () => {
  it('passes prompts without blocked words', async () => {
    expect(await checkPrompt(words, { prompt: 'a cat in the snow' }, ['prompt'])).toEqual({ blocked: false });
  });

  it('blocks whole words case-insensitively with the configured reply', async () => {
    expect(await checkPrompt(words, { prompt: 'A NUDE statue' }, ['prompt'])).toEqual({
      blocked: true,
      reply: 'Not here, please.',
      matched: { option: 'prompt', kind: 'word', term: 'nude' },
    });
  });

  it('matches whole words only', async () => {
    expect(await checkPrompt(words, { prompt: 'denuded hills, nudes' }, ['prompt'])).toEqual({ blocked: false });
    expect(await checkPrompt(words, { prompt: 'nude_girl' }, ['prompt'])).toMatchObject({ blocked: true });
  });

  it('matches phrases across any whitespace and escapes regex syntax in words', async () => {
    expect(await checkPrompt(words, { prompt: 'a BLOOD\n  bath' }, ['prompt'])).toMatchObject({ matched: { term: 'blood bath' } });
    expect(await checkPrompt(words, { prompt: 'learn c++ today' }, ['prompt'])).toMatchObject({ matched: { term: 'c++' } });
    expect(await checkPrompt(words, { prompt: 'learn cxx today' }, ['prompt'])).toEqual({ blocked: false });
  });

  it('catches the documented disguises', async () => {
    for (const disguised of ['ｎｕｄｅ', 'nüde', 'nu\u200bde', 'n u d e', 'n.u.d.e', 'nud3', 'n-u-d-3']) {
      expect(await checkPrompt(words, { prompt: `a ${disguised} person` }, ['prompt']), disguised).toMatchObject({ blocked: true });
    }
  });

  it('checks only the named string options, and names the option that matched', async () => {
    const params = { prompt: 'a cat', negative: 'nude', style: 'nude', steps: 20 };
    expect(await checkPrompt(words, params, ['prompt', 'negative', 'steps'])).toMatchObject({ matched: { option: 'negative' } });
    expect(await checkPrompt(words, params, ['prompt', 'steps'])).toEqual({ blocked: false });
  });

  it('uses the default reply when the guild set none', async () => {
    const plain = settings({ blockedWords: ['gore'] });
    expect(await checkPrompt(plain, { prompt: 'gore' }, ['prompt'])).toMatchObject({ reply: DEFAULT_BLOCKED_REPLY });
  });

  it('applies admin patterns to the text and its folded form', async () => {
    const patterns = settings({ blockedPatterns: ['\\bsk(y|ies)\\s?scraper'] });
    expect(await checkPrompt(patterns, { prompt: 'a SKY scraper' }, ['prompt'])).toMatchObject({
      blocked: true,
      matched: { kind: 'pattern', term: '\\bsk(y|ies)\\s?scraper' },
    });
    expect(await checkPrompt(patterns, { prompt: 'a house' }, ['prompt'])).toEqual({ blocked: false });
  });

  it('never refuses an innocent prompt for a hostile pattern: it runs in linear time and matches correctly', async () => {
    const hostile = settings({ blockedPatterns: ['^(a+)+$'] });
    const innocent = 'a'.repeat(4000) + '!';
    expect(await checkPrompt(hostile, { prompt: innocent }, ['prompt'])).toEqual({ blocked: false });
    expect(await checkPrompt(hostile, { prompt: 'aaaa' }, ['prompt'])).toMatchObject({ blocked: true, matched: { kind: 'pattern', term: '^(a+)+$' } });
  });

  it('takes a stored pattern RE2 cannot run out of use and reports it once, refusing nobody', async () => {
    const stored = settings({ blockedPatterns: ['cat(?=s)', 'dogs?'] });
    const reports: DisabledPattern[] = [];
    expect(await checkPrompt(stored, { prompt: 'cats and dogs' }, ['prompt'], (d) => reports.push(d))).toMatchObject({ matched: { term: 'dogs?' } });
    expect(await checkPrompt(stored, { prompt: 'cats' }, ['prompt'], (d) => reports.push(d))).toEqual({ blocked: false });
    expect(reports).toEqual([{ pattern: 'cat(?=s)', reason: expect.stringContaining('lookaround') }]);
  });

  it('ignores blocked words that fold to nothing instead of matching everywhere', async () => {
    const odd = settings({ blockedWords: ['\u0301\u200b', 'gore'] });
    expect(await checkPrompt(odd, { prompt: 'a cat' }, ['prompt'])).toEqual({ blocked: false });
    expect(await checkPrompt(odd, { prompt: 'g o r e' }, ['prompt'])).toMatchObject({ matched: { term: 'gore' } });
  });

  it('stays fast on long adversarial prompts', async () => {
    const many = settings({ blockedWords: Array.from({ length: 300 }, (_, i) => `word${i}`) });
    const started = performance.now();
    for (const prompt of ['a '.repeat(2999) + 'ab', '1'.repeat(6000), 'a.'.repeat(3000)]) {
      expect(await checkPrompt(many, { prompt }, ['prompt'])).toEqual({ blocked: false });
    }
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('refuses a text longer than any command takes before any list runs, naming the option and the limit', async () => {
    const long = 'a cat '.repeat(1001);
    expect(await checkPrompt(words, { prompt: 'a cat', negative: long }, ['prompt', 'negative'])).toEqual({
      blocked: true,
      reply: '`negative` is 6006 characters; the limit is 6000.',
      matched: { option: 'negative', kind: 'too-long', term: '6006 characters' },
    });
    // Even where nothing is blocked, and before a blocked word earlier in the prompt.
    expect(await checkPrompt(settings({}), { prompt: long }, ['prompt'])).toMatchObject({ matched: { kind: 'too-long' } });
    expect(await checkPrompt(words, { prompt: `nude ${long}` }, ['prompt'])).toMatchObject({ matched: { kind: 'too-long' } });
    expect(await checkPrompt(words, { prompt: `${'a cat '.repeat(999)}nude` }, ['prompt'])).toMatchObject({ matched: { kind: 'word', term: 'nude' } });
  });

  it('checks a maximum-length prompt against a 10,000-word list, and a changed list at once', async () => {
    const list = Array.from({ length: 10_000 }, (_, i) => (i % 10 === 0 ? `bad phrase ${i}` : `badword${i}`));
    const big = settings({ blockedWords: list });
    const filler = 'a calm lake at dawn, '.repeat(284); // 5964 characters
    expect(await checkPrompt(big, { prompt: filler }, ['prompt'])).toEqual({ blocked: false });
    expect(await checkPrompt(big, { prompt: `${filler}BAD  phrase 9990` }, ['prompt'])).toMatchObject({ matched: { term: 'bad phrase 9990' } });
    expect(await checkPrompt(big, { prompt: `${filler}b.a.d.w.o.r.d.9.9.9.9` }, ['prompt'])).toMatchObject({ matched: { term: 'badword9' } }); // inside a spelled-out run, any word counts
    const changed = settings({ blockedWords: [...list.slice(1), 'lake'] });
    expect(await checkPrompt(changed, { prompt: filler }, ['prompt'])).toMatchObject({ matched: { term: 'lake' } });
    expect(await checkPrompt(big, { prompt: filler }, ['prompt'])).toEqual({ blocked: false });
  });

  it('keeps a pattern out of use when only the words change', async () => {
    const reports: DisabledPattern[] = [];
    const first = settings({ blockedWords: ['gore'], blockedPatterns: ['bird(?=s)', 'fish'] });
    const second = settings({ blockedWords: ['gore', 'blood'], blockedPatterns: ['bird(?=s)', 'fish'] });
    await checkPrompt(first, { prompt: 'birds' }, ['prompt'], (d) => reports.push(d));
    await checkPrompt(second, { prompt: 'birds' }, ['prompt'], (d) => reports.push(d));
    expect(reports.map((r) => r.pattern)).toEqual(['bird(?=s)']);
  });

  it('passes everything when the guild blocks nothing', async () => {
    expect(await checkPrompt(settings({}), { prompt: 'nude' }, ['prompt'])).toEqual({ blocked: false });
  });
});

describe('promptOptionNames', () => {
  it('lists the visible text options only', async () => {
    expect(promptOptionNames(commandFixture())).toEqual(['prompt', 'negative']);
  });
});
