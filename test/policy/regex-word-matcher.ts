// The blocked-word matcher comfycord used before the token automaton (wordMatcher.ts): all words in one
// alternation with lookbehind, run on every folded variant, then a substring search of each word in the
// spelled-out runs. Kept as the reference for the rules (the matcher's tests compare the two) and as the
// "before" of the untrusted bench.
import { foldText, type FoldedForms } from '../../src/policy/fold.js';

export class RegexWordMatcher {
  private readonly regex: RegExp | null;
  private readonly compact: string[];

  constructor(words: readonly string[]) {
    const kept = words.filter((word) => foldText(word).trim() !== '');
    const escape = (text: string) => text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
    const alternatives = kept.map((word) => `(${escape(foldText(word)).replace(/\s+/g, '\\s+')})`);
    this.regex = kept.length === 0 ? null : new RegExp(`(?<![\\p{L}\\p{N}\\p{M}])(?:${alternatives.join('|')})(?![\\p{L}\\p{N}\\p{M}])`, 'u');
    this.compact = kept.map((word) => foldText(word).replace(/\s+/g, ''));
  }

  blocks(forms: FoldedForms): boolean {
    if (this.regex && forms.variants.some((text) => this.regex!.test(text))) return true;
    return this.compact.some((word) => forms.runs.some((run) => run.includes(word)));
  }
}
