// Blocked words and patterns, checked on a job's text options before it is queued. Words match whole words only,
// case-insensitively, in every folded variant of the text (see fold.ts for exactly which disguises are caught),
// on the main thread in time linear in the text (wordMatcher.ts); patterns are the admin's regular expressions,
// run in linear time on a worker thread (see patterns.ts). A text longer than any command takes is refused
// first, so neither does unbounded work.
import type { GuildSettings } from '../jobs/store-settings.js';
import type { CommandDefinition } from '../templates/definition.js';
import { MAX_STRING_LENGTH } from '../templates/file-schema.js';
import { foldText, foldedForms } from './fold.js';
import { PatternSet, type DisabledPattern } from './patterns.js';
import { WordMatcher } from './wordMatcher.js';

export const DEFAULT_BLOCKED_REPLY = 'Your prompt contains something this server does not allow. Please change it and try again.';

export interface BlockedMatch {
  /** The option whose value was refused. */
  option: string;
  /** 'too-long': over the length any command takes (a value that did not come through Discord's own limits). */
  kind: 'word' | 'pattern' | 'too-long';
  /** The blocked word or pattern as the admin wrote it, or the text's length (for the audit log, not the user). */
  term: string;
}

export type PromptCheck = { blocked: false } | { blocked: true; reply: string; matched: BlockedMatch };

// Settings are re-read from the store per job, so each list is compiled once per version and looked up by its
// contents (or, for a list object that is kept, such as the operator's DM policy, by identity first). Bounded,
// oldest out first. Words and patterns are cached apart: changing one list keeps the other's state (a pattern
// taken out of use stays out).
const MAX_CACHED = 64;

class CompiledLists<T> {
  private readonly byContent = new Map<string, T>();
  private readonly byIdentity = new WeakMap<readonly string[], T>();

  constructor(private readonly compile: (list: readonly string[]) => T) {}

  get(list: readonly string[]): T {
    const known = this.byIdentity.get(list);
    if (known) return known;
    const key = JSON.stringify(list);
    let compiled = this.byContent.get(key);
    if (!compiled) {
      compiled = this.compile(list);
      if (this.byContent.size >= MAX_CACHED) this.byContent.delete(this.byContent.keys().next().value!);
      this.byContent.set(key, compiled);
    }
    this.byIdentity.set(list, compiled);
    return compiled;
  }
}

const wordLists = new CompiledLists((words) => new WordMatcher(words));
const patternLists = new CompiledLists((patterns) => new PatternSet(patterns));

/** The first option over the length any command takes: refused before any list runs, so work stays bounded. */
function tooLong(params: Record<string, unknown>, stringOptionNames: readonly string[]): BlockedMatch | null {
  for (const option of stringOptionNames) {
    const value = params[option];
    if (typeof value === 'string' && value.length > MAX_STRING_LENGTH) return { option, kind: 'too-long', term: `${value.length} characters` };
  }
  return null;
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
  const long = tooLong(params, stringOptionNames);
  if (long) return { blocked: true, reply: `\`${long.option}\` is ${long.term}; the limit is ${MAX_STRING_LENGTH}.`, matched: long };
  const words = settings.blockedWords.length > 0 ? wordLists.get(settings.blockedWords) : null;
  const patterns = settings.blockedPatterns.length > 0 ? patternLists.get(settings.blockedPatterns) : null;
  if (!words && !patterns) return { blocked: false };
  const reply = settings.blockedReply ?? DEFAULT_BLOCKED_REPLY;
  const texts: { option: string; value: string; folded: string }[] = [];
  for (const option of stringOptionNames) {
    const value = params[option];
    if (typeof value !== 'string' || value.length === 0) continue;
    if (!words) {
      texts.push({ option, value, folded: foldText(value) });
      continue;
    }
    const forms = foldedForms(value);
    const word = words.firstMatch(forms);
    if (word) return { blocked: true, reply, matched: { option, kind: 'word', term: word } };
    texts.push({ option, value, folded: forms.variants[0]! });
  }
  if (!patterns || texts.length === 0) return { blocked: false };
  // All options in one check on the pattern worker: each text as written and folded.
  const forms = texts.flatMap(({ value, folded }) => [value, folded]);
  const { match, disabled } = await patterns.firstMatch(forms);
  disabled.forEach(onDisabled);
  if (!match) return { blocked: false };
  return { blocked: true, reply, matched: { option: texts[Math.floor(match.text / 2)]!.option, kind: 'pattern', term: match.pattern } };
}

/**
 * Texts that take every branch of folding and matching (look-alikes, spelled-out runs, symbols, fullwidth,
 * invisible and other scripts), long enough for V8 to optimise the loops before a member's prompt does. One is
 * plain ASCII and one is not: V8 compiles each regular expression apart for each of the two kinds of string.
 */
const WARM_UP = {
  blockedWords: ['warm up', 'c++', 'nude'],
  texts: [
    ['W4rm-up: a p.r.o.m.p.t, n u d 3, c+ + b00k; '.repeat(20), 'a '.repeat(1500) + '1', 'n1c3 b00k '.repeat(100), '.,;'.repeat(300)].join(' '),
    'W4rm-up: ｆｕｌｌｗｉｄｔｈ, ü, \u200b, n u d 3 and नमस्ते; '.repeat(100),
  ],
};

/**
 * At start-up: runs the checks a few times, so the first member's prompt pays neither for the checker's cold code
 * nor for compiling `settings`' lists (the operator's DM lists, which a config file does not cap in length).
 */
export async function warmUpChecks(settings: GuildSettings): Promise<void> {
  const matcher = wordLists.get(WARM_UP.blockedWords);
  for (let round = 0; round < 5; round++) for (const text of WARM_UP.texts) matcher.firstMatch(foldedForms(text));
  const [ascii, other] = WARM_UP.texts;
  const verdict = await checkPrompt(settings, { ascii, other }, ['ascii', 'other']);
  if (verdict.blocked && verdict.matched.kind === 'too-long') throw new Error(`the warm-up text is ${verdict.matched.term}, over the limit`);
}

/**
 * The options whose values are free text a member types: what checkPrompt looks at. Choices are left out (their
 * values come from the command file or the server's lists), and so are hidden options (fixed by the admin).
 */
export function promptOptionNames(command: CommandDefinition): string[] {
  return command.options.filter((option) => option.type === 'string' && !option.hidden).map((option) => option.name);
}
