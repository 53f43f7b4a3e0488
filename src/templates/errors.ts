// The two ways a command can be wrong: the admin's files (Problem, reported at load or check time) and the
// user's values (OptionError, shown to the user who ran the command).

/** One mistake in a command file or template, precise enough to fix without reading code. */
export interface Problem {
  /** The command file (or directory) the problem is in, as given to the loader. */
  file: string;
  /** The option concerned, when there is one. */
  option?: string;
  /** The follow-up action concerned: the action is skipped, its command still loads. */
  action?: string;
  message: string;
}

/** A value a user supplied for an option is unusable; `message` is written for that user. */
export class OptionError extends Error {
  override readonly name = 'OptionError';
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(message);
  }
}

/** Thrown while compiling a command file; collected into Problems by the loader. */
export class DefinitionError extends Error {
  override readonly name = 'DefinitionError';
}

export function formatProblem(problem: Problem): string {
  return `${problem.file}: ${problemText(problem)}`;
}

/** The problem without its file: `option "x": …`, `action "y": …` or the bare message. */
export function problemText(problem: Problem): string {
  if (problem.option) return `option "${problem.option}": ${problem.message}`;
  if (problem.action) return `action "${problem.action}": ${problem.message}`;
  return problem.message;
}
