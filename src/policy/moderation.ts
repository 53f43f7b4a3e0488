// Blocked words and patterns, checked on a job's text options before it is queued. Words match whole words only,
// case-insensitively, in every folded variant of the text (see fold.ts for exactly which disguises are caught);
// patterns are the admin's regular expressions, run in linear time (see patterns.ts).
import type { GuildSettings } from '../jobs/store-settings.js';
import type { CommandDefinition } from '../templates/definition.js';
import { foldText, foldedForms, type FoldedForms } from './fold.js';
import { PatternSet, type DisabledPattern } from './patterns.js';

export const DEFAULT_BLOCKED_REPLY = 'Your prompt contains something this server does not allow. Please change it and try again.';

export interface BlockedMatch {
  /** The option whose value was refused. */
  option: string;
  kind: 'word' | 'pattern';
  /** The blocked word or pattern as the admin wrote it (for the audit log and moderators, not the user). */
  term: string;
}

export type PromptCheck = { blocked: false } | { blocked: true; reply: string; matched: BlockedMatch };

/** Letters, digits and marks: what a blocked word must not touch on either side to count as a whole word. */
const WORD_CHAR = '[\\p{L}\\p{N}\\p{M}]';

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/** One alternation of all words, one capture group each, so a match says which word it was. */
class WordMatcher {
  private readonly regex: RegExp;
  /** Folded words without whitespace, to look for inside spelled-out runs. */
  private readonly compact: string[];

  private readonly words: readonly string[];

  constructor(words: readonly string[]) {
    // A word that folds to nothing (only accents or invisible characters) would match everywhere.
    this.words = words.filter((word) => foldText(word).trim() !== '');
    const alternatives = this.words.map((word) => `(${escapeRegExp(foldText(word)).replace(/\s+/g, '\\s+')})`);
    this.regex = new RegExp(`(?<!${WORD_CHAR})(?:${alternatives.join('|')})(?!${WORD_CHAR})`, 'u');
    this.compact = this.words.map((word) => foldText(word).replace(/\s+/g, ''));
  }

  firstMatch(forms: FoldedForms): string | null {
    for (const text of forms.variants) {
      const match = this.regex.exec(text);
      if (!match) continue;
      const index = match.slice(1).findIndex((group) => group !== undefined);
      return this.words[index] ?? null;
    }
    const index = this.compact.findIndex((word) => forms.runs.some((run) => run.includes(word)));
    return index === -1 ? null : this.words[index]!;
  }
}

interface CompiledRules {
  words: WordMatcher | null;
  patterns: PatternSet | null;
}

// Settings are re-read from the store per job; compiling is keyed by the lists themselves, so each version of
// a guild's lists is compiled once. Bounded, oldest out first.
const MAX_CACHED = 64;
const cache = new Map<string, CompiledRules>();

function compiledRules(settings: GuildSettings): CompiledRules {
  const key = JSON.stringify([settings.blockedWords, settings.blockedPatterns]);
  const cached = cache.get(key);
  if (cached) return cached;
  const rules: CompiledRules = {
    words: settings.blockedWords.length > 0 ? new WordMatcher(settings.blockedWords) : null,
    patterns: settings.blockedPatterns.length > 0 ? new PatternSet(settings.blockedPatterns) : null,
  };
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
  cache.set(key, rules);
  return rules;
}

/**
 * Checks the string values of `stringOptionNames` in `params` (the values after user defaults are applied, so a
 * saved default cannot smuggle a word past the check). Non-string values are ignored. A pattern taken out of
 * use during the check (too slow, or one RE2 cannot run) is passed to `onDisabled`, once, for the server's
 * admins to hear of; it refuses nothing.
 */
export async function checkPrompt(
  settings: GuildSettings,
  params: Record<string, unknown>,
  stringOptionNames: readonly string[],
  onDisabled: (disabled: DisabledPattern) => void = () => undefined,
): Promise<PromptCheck> {
  const rules = compiledRules(settings);
  if (!rules.words && !rules.patterns) return { blocked: false };
  const reply = settings.blockedReply ?? DEFAULT_BLOCKED_REPLY;
  const texts: { option: string; value: string }[] = [];
  for (const option of stringOptionNames) {
    const value = params[option];
    if (typeof value !== 'string' || value.length === 0) continue;
    const word = rules.words?.firstMatch(foldedForms(value));
    if (word) return { blocked: true, reply, matched: { option, kind: 'word', term: word } };
    texts.push({ option, value });
  }
  if (!rules.patterns || texts.length === 0) return { blocked: false };
  // All options in one check on the pattern worker: each text as written and folded.
  const forms = texts.flatMap(({ value }) => [value, foldText(value)]);
  const { match, disabled } = await rules.patterns.firstMatch(forms);
  disabled.forEach(onDisabled);
  if (!match) return { blocked: false };
  return { blocked: true, reply, matched: { option: texts[Math.floor(match.text / 2)]!.option, kind: 'pattern', term: match.pattern } };
}

/**
 * The options whose values are free text a member types: what checkPrompt looks at. Choices are left out (their
 * values come from the command file or the server's lists), and so are hidden options (fixed by the admin).
 */
export function promptOptionNames(command: CommandDefinition): string[] {
  return command.options.filter((option) => option.type === 'string' && !option.hidden).map((option) => option.name);
}
