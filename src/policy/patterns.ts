// Admin regular expressions, run so that no pattern and no prompt can hang the bot. They run in re2js, a port of
// RE2: matching takes time linear in the text (no backtracking, so "(a+)+$" is as cheap as "a"), and the
// syntax that needs backtracking (backreferences, lookaround) does not compile. The size of a pattern's program
// is bounded when it is added. Prompts are checked on a worker thread with a hard time limit (patternWorker.ts),
// so even RE2's linear work never blocks the bot. A pattern that passes the limit, or a stored one RE2 cannot
// compile (added before, or written to the database by hand), is taken out of use and handed back to be
// reported to the server's admins; it never refuses a member's prompt.
import { RE2JS } from 're2js';
import { PatternWorker } from './patternWorker.js';

export const MAX_PATTERN_LENGTH = 200;
/** Program steps of one compiled pattern; past this a check gets slow (counted repeats blow up the program). */
export const MAX_PATTERN_STEPS = 1000;
const CANNOT_RUN = 'not a pattern this bot can run';
const UNSUPPORTED = 'lookaround and backreferences are not supported';

/** re2js's compile error, as the admin wrote the pattern (re2js shows the case-insensitive flag as part of it). */
function cannotRun(message: string): string {
  return `${CANNOT_RUN}: ${message.replace('(?i)', '').replace(/^error parsing regexp: /, '')} (${UNSUPPORTED})`;
}

/** Why an admin pattern is refused, or null when it is acceptable (checked when it is added). */
export function patternProblem(source: string): string | null {
  if (source.length === 0) return 'the pattern is empty';
  if (source.length > MAX_PATTERN_LENGTH) return `the pattern is ${source.length} characters; the limit is ${MAX_PATTERN_LENGTH}`;
  let re: RE2JS;
  try {
    re = RE2JS.compile(source, RE2JS.CASE_INSENSITIVE);
  } catch (error) {
    return cannotRun((error as Error).message);
  }
  const steps = re.re2().numberOfInstructions();
  if (steps > MAX_PATTERN_STEPS) return `the pattern is too complex (${steps} steps; the limit is ${MAX_PATTERN_STEPS}): use smaller repeat counts`;
  return null;
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

let shared: PatternWorker | null = null;

/** The process's one pattern worker, started on first use. */
function sharedWorker(): PatternWorker {
  return (shared ??= new PatternWorker());
}

/**
 * Starts the pattern worker and loads RE2 in it: done at start-up when some server has patterns, so the first
 * member's prompt does not pay for starting a thread on the main one. Resolves with a function that ends it.
 */
export async function startPatternWorker(): Promise<() => Promise<void>> {
  const worker = sharedWorker();
  await worker.check(['warm up'], ['warm up']);
  return () => worker.close();
}

/**
 * Ends the pattern worker if anything started it (a later check starts a new one). A bot whose servers have no
 * patterns never starts the thread, which holds a V8 heap and RE2 of its own (about 15 MB resident).
 */
export async function stopPatternWorker(): Promise<void> {
  await shared?.close();
}

/** One server's list of patterns (case-insensitive, Unicode), checked on the pattern worker. */
export class PatternSet {
  private readonly disabled = new Set<string>();

  constructor(
    readonly sources: readonly string[],
    private readonly worker: PatternWorker = sharedWorker(),
  ) {}

  /** The first pattern matching any text (`text` is its index). A pattern out of use refuses nobody. */
  async firstMatch(texts: readonly string[]): Promise<PatternResult> {
    const disabled: DisabledPattern[] = [];
    const disable = (pattern: string, reason: string) => {
      if (this.disabled.has(pattern)) return;
      this.disabled.add(pattern);
      disabled.push({ pattern, reason });
    };
    for (;;) {
      const active = this.sources.filter((source) => !this.disabled.has(source));
      if (active.length === 0) return { match: null, disabled };
      const outcome = await this.worker.check(active, texts);
      if (outcome.kind === 'timed-out') {
        // The prompt is checked again without the pattern: a slow pattern must not let prompts through unchecked
        // by the others, nor refuse them.
        disable(active[outcome.index]!, `checking one prompt took over ${this.worker.limitMs} ms`);
        continue;
      }
      for (const { index, problem } of outcome.answer.unusable) disable(active[index]!, cannotRun(problem));
      const { match } = outcome.answer;
      return { match: match ? { pattern: active[match.index]!, text: match.text } : null, disabled };
    }
  }
}
