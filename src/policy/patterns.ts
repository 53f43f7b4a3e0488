// Admin regular expressions, kept from hanging the bot. Two guards, because neither is enough alone:
//   1. when a pattern is added (`patternProblem`): at most 200 characters, compiles with the `iu` flags, no
//      backreferences, and no repeated group that itself holds a repetition or alternatives ("(a+)+", "(\w+ )*",
//      "(a|ab)*") — the shapes behind catastrophic backtracking. This refuses a few harmless patterns; the
//      message says how to rewrite them.
//   2. when prompts are checked (`PatternSet.firstMatch`): every pattern runs inside one `vm` script with a
//      wall-clock timeout, so a pattern that slipped past (1) — written to the database by hand, or polynomial
//      like "\s*\s*\s*x" — costs at most the budget and the prompt is refused as "could not be checked".
import vm from 'node:vm';

export const MAX_PATTERN_LENGTH = 200;
const DEFAULT_PATTERN_BUDGET_MS = 250;

const QUANTIFIER_BRACES = /^\{\d+(,\d*)?\}/;

/** Why an admin pattern is refused, or null when it is acceptable. */
export function patternProblem(source: string): string | null {
  if (source.length === 0) return 'the pattern is empty';
  if (source.length > MAX_PATTERN_LENGTH) return `the pattern is ${source.length} characters; the limit is ${MAX_PATTERN_LENGTH}`;
  try {
    new RegExp(source, 'iu');
  } catch (error) {
    return `not a valid regular expression: ${(error as Error).message}`;
  }
  if (/\\(?:[1-9]|k<)/.test(source)) return 'backreferences (\\1, \\k<name>) are not allowed';
  return nestedRepetition(source);
}

/** Scans groups: a group followed by a repetition must contain no repetition and no "|". */
function nestedRepetition(source: string): string | null {
  const open: { risky: boolean; start: number }[] = [];
  const markAll = (): void => open.forEach((group) => (group.risky = true));
  let i = 0;
  while (i < source.length) {
    const char = source[i]!;
    if (char === '\\') {
      i += 2;
      continue;
    }
    if (char === '[') {
      // Skip a character class; inside it "(", "+" and "|" are literal.
      i += 1;
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
      i += 1;
      continue;
    }
    if (char === '(') {
      open.push({ risky: false, start: i });
      i += source[i + 1] === '?' ? 2 : 1; // "(?:", "(?=", "(?<name>": the "?" is syntax, not a repetition
      continue;
    }
    if (char === '|') markAll();
    if (char === '*' || char === '+' || char === '?' || (char === '{' && QUANTIFIER_BRACES.test(source.slice(i)))) {
      markAll();
    }
    if (char === ')') {
      const group = open.pop();
      const next = source.slice(i + 1);
      const repeated = /^[*+]/.test(next) || QUANTIFIER_BRACES.test(next);
      if (group && group.risky && repeated) {
        const text = source.slice(group.start, i + 2);
        return `the repeated group ${text} contains a repetition or "|", which can take exponential time; repeat a character class instead (e.g. [a-z ]+)`;
      }
    }
    i += 1;
  }
  return null;
}

export type PatternResult = { matched: false } | { matched: true; pattern: string; text: number } | { timedOut: true };

/** Compiled admin patterns (case-insensitive, Unicode), run against texts under a time budget. */
export class PatternSet {
  private readonly context: vm.Context;
  private static readonly script = new vm.Script(
    `result = null;
     outer: for (let p = 0; p < patterns.length; p++) {
       for (let t = 0; t < texts.length; t++) {
         if (patterns[p].test(texts[t])) { result = [p, t]; break outer; }
       }
     }`,
  );

  constructor(
    readonly sources: readonly string[],
    private readonly budgetMs = DEFAULT_PATTERN_BUDGET_MS,
  ) {
    // No "g" flag: `test` keeps no lastIndex state between checks.
    this.context = vm.createContext({ patterns: sources.map((source) => new RegExp(source, 'iu')), texts: [], result: null });
  }

  /** The first pattern matching any text (`text` is its index), or `timedOut` when the budget ran out. */
  firstMatch(texts: readonly string[]): PatternResult {
    this.context.texts = [...texts];
    try {
      PatternSet.script.runInContext(this.context, { timeout: this.budgetMs });
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return { timedOut: true };
      throw error;
    } finally {
      this.context.texts = [];
    }
    const found = this.context.result as [number, number] | null;
    if (!found) return { matched: false };
    return { matched: true, pattern: this.sources[found[0]]!, text: found[1] };
  }
}
