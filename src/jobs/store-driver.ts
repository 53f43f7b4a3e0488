// What the job store needs from a database engine: statements with named parameters (@name), and transactions
// given whole as a list of statements with abort guards. A transaction is handed over in one piece so that on
// PostgreSQL it is one round trip to the worker thread (see pg-bridge.ts), never a conversation across threads.
import type { QueryResult } from './pg-bridge.js';

export type SqlParams = Readonly<Record<string, unknown>>;
export type Row = Record<string, unknown>;

export interface Step {
  sql: string;
  params?: SqlParams;
  /** 'rows': abort (roll back) if the statement returned a row; 'none': abort if it returned or changed nothing. */
  abortIf?: 'rows' | 'none';
}

export type StepResult = QueryResult;

/** Every step's result, or the step that aborted the transaction (rolled back) and its first row. */
export type Outcome = { ok: true; results: StepResult[] } | { ok: false; step: number; row: Row | undefined };

export type Dialect = 'sqlite' | 'postgres';

export interface SqlDriver {
  readonly dialect: Dialect;
  /** Where the data lives, for messages: a file path or a redacted URL. */
  readonly where: string;
  all<T = Row>(sql: string, params?: SqlParams): T[];
  /** Runs one statement (its own transaction); returns its rows and how many rows it returned or changed. */
  execute(sql: string, params?: SqlParams): StepResult;
  /**
   * Runs the steps in one transaction. `locks` names what it decides about (a user, a server): transactions
   * naming the same lock never overlap, across processes too.
   */
  transaction(steps: readonly Step[], locks?: readonly string[]): Outcome;
  close(): void;
}

const PARAM = /@([A-Za-z_]\w*)/g;

/** The @names of a statement, in order of appearance (a name may repeat). */
export function paramNames(sql: string): string[] {
  return [...sql.matchAll(PARAM)].map((m) => m[1]!);
}

/** `@name` → `$n` for PostgreSQL, each distinct name numbered once; returns the text and the names by number. */
export function toPositional(sql: string): { text: string; names: string[] } {
  const names: string[] = [];
  const text = sql.replace(PARAM, (_, name: string) => {
    let index = names.indexOf(name);
    if (index === -1) index = names.push(name) - 1;
    return `$${index + 1}`;
  });
  return { text, names };
}
