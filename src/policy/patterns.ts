// Admin regular expressions, run so that no pattern and no prompt can hang the bot. They run in re2js, a port of
// RE2: matching takes time linear in the text (no backtracking, so "(a+)+$" is as cheap as "a"), and the
// syntax that needs backtracking (backreferences, lookaround) does not compile. What is left to bound is the
// size of a pattern's program, checked when it is added. A pattern that still takes too long again and again, or
// a stored one RE2 cannot compile (added before, or written to the database by hand), is taken out of use and
// handed back to be reported to the server's admins; it never refuses a member's prompt.
import { RE2JS } from 're2js';

export const MAX_PATTERN_LENGTH = 200;
/** Program steps of one compiled pattern; past this a check gets slow (counted repeats blow up the program). */
export const MAX_PATTERN_STEPS = 1000;
/** One pattern's check of one text may take this long… */
export const SLOW_PATTERN_MS = 5;
/** …this many times before the pattern is taken out of use (once could be a GC pause, not the pattern). */
export const SLOW_STRIKES = 3;

function compile(source: string): RE2JS {
  return RE2JS.compile(source, RE2JS.CASE_INSENSITIVE);
}

/** Why a pattern cannot be used, or null when it can. */
function compileProblem(source: string): { problem: string } | { re: RE2JS } {
  let re: RE2JS;
  try {
    re = compile(source);
  } catch (error) {
    // re2js reports the case-insensitive flag as part of the pattern; the admin did not write it.
    const reason = (error as Error).message.replace('(?i)', '').replace(/^error parsing regexp: /, '');
    return { problem: `not a pattern this bot can run: ${reason} (lookaround and backreferences are not supported)` };
  }
  const steps = re.re2().numberOfInstructions();
  if (steps > MAX_PATTERN_STEPS) {
    return { problem: `the pattern is too complex (${steps} steps; the limit is ${MAX_PATTERN_STEPS}): use smaller repeat counts` };
  }
  return { re };
}

/** Why an admin pattern is refused, or null when it is acceptable. */
export function patternProblem(source: string): string | null {
  if (source.length === 0) return 'the pattern is empty';
  if (source.length > MAX_PATTERN_LENGTH) return `the pattern is ${source.length} characters; the limit is ${MAX_PATTERN_LENGTH}`;
  const compiled = compileProblem(source);
  return 'problem' in compiled ? compiled.problem : null;
}

/** A pattern taken out of use, and why (for the report to the server's admins). */
export interface DisabledPattern {
  pattern: string;
  reason: string;
}

export interface PatternResult {
  match: { pattern: string; text: number } | null;
  /** Patterns taken out of use by this check (each is returned once, by the check that disabled it). */
  disabled: DisabledPattern[];
}

/** Compiled admin patterns (case-insensitive, Unicode), each checked against each text. */
export class PatternSet {
  private readonly usable: { source: string; re: RE2JS; strikes: number }[] = [];
  private pending: DisabledPattern[] = [];

  constructor(
    readonly sources: readonly string[],
    private readonly now: () => number = () => performance.now(),
  ) {
    for (const source of sources) {
      const compiled = compileProblem(source);
      if ('re' in compiled) {
        compiled.re.test('warm up'); // the first run builds the automaton's start; not a prompt's cost
        this.usable.push({ source, re: compiled.re, strikes: 0 });
      }
      else this.pending.push({ pattern: source, reason: compiled.problem });
    }
  }

  /**
   * The first pattern matching any text (`text` is its index). A pattern found slow too often is disabled, and
   * its answer on that check is not used: a pattern out of use refuses nobody.
   */
  firstMatch(texts: readonly string[]): PatternResult {
    const disabled = this.pending;
    this.pending = [];
    for (const entry of [...this.usable]) {
      for (let t = 0; t < texts.length; t++) {
        const started = this.now();
        const found = entry.re.test(texts[t]!);
        const took = this.now() - started;
        if (took > SLOW_PATTERN_MS && ++entry.strikes >= SLOW_STRIKES) {
          this.usable.splice(this.usable.indexOf(entry), 1);
          const reason = `checking a prompt took over ${SLOW_PATTERN_MS} ms ${SLOW_STRIKES} times (the last took ${Math.round(took)} ms)`;
          disabled.push({ pattern: entry.source, reason });
          break;
        }
        if (found) return { match: { pattern: entry.source, text: t }, disabled };
      }
    }
    return { match: null, disabled };
  }
}
