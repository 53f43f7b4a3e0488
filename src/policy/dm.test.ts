import { describe, expect, it } from 'vitest';
import { checkPrompt } from './moderation.js';
import { DM_BLOCKED_REPLY, dmPolicyProblems, dmSettings } from './dm.js';

describe('the DM policy', () => {
  it("is checked like a server's lists, with a refusal that does not speak of a server", async () => {
    const settings = dmSettings({ blockedWords: ['dragon'], blockedPatterns: ['\\bwyrms?\\b'] });
    expect(await checkPrompt(settings, { prompt: 'a red Dragon' }, ['prompt'])).toMatchObject({ blocked: true, reply: DM_BLOCKED_REPLY });
    expect(await checkPrompt(settings, { prompt: 'two wyrms' }, ['prompt'])).toMatchObject({ blocked: true });
    expect(await checkPrompt(settings, { prompt: 'a cat' }, ['prompt'])).toEqual({ blocked: false });
    expect(dmSettings({ blockedWords: [], blockedPatterns: [], blockedReply: 'No.' }).blockedReply).toBe('No.');
  });

  it('names each pattern the checks would refuse, by its place in the configuration', () => {
    // Nested repetition is harmless in RE2 (linear time); what RE2 cannot compile, or refuses, is named.
    expect(dmPolicyProblems({ blockedWords: [], blockedPatterns: ['ok', '(a+)+', '(unclosed', 'a(?=b)'] })).toEqual([
      expect.stringMatching(/^dmPolicy\.blockedPatterns\[2\]: /),
      expect.stringMatching(/^dmPolicy\.blockedPatterns\[3\]: /),
    ]);
  });
});
