// The job store's SQLite engine (better-sqlite3, WAL) in the data dir: the default, for one process.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import type { Logger } from '../config/logger.js';
import { migrate, type Migration } from './migrations.js';
import { paramNames, type Outcome, type Row, type SqlDriver, type SqlParams, type Step, type StepResult } from './store-driver.js';
import { StoreError } from './store-errors.js';
import { InputFiles } from './store-files.js';
import { SqlJobStore } from './store-sql.js';

const DATABASE_FILE = 'comfycord.db';

/** Thrown inside a transaction to roll it back when a step's guard says so. */
class Abort {
  constructor(
    readonly step: number,
    readonly row: Row | undefined,
  ) {}
}

class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite';
  private readonly statements = new Map<string, { statement: Statement; names: string[] }>();

  constructor(
    private readonly db: Db,
    readonly where: string,
  ) {}

  all<T = Row>(sql: string, params: SqlParams = {}): T[] {
    const { statement, names } = this.prepared(sql);
    return statement.all(pick(names, params)) as T[];
  }

  /**
   * One transaction; with `locks` it starts IMMEDIATE, taking SQLite's write lock at once, so a decision read in
   * it (an admission's counts) cannot be invalidated by another connection before it writes.
   */
  transaction(steps: readonly Step[], locks: readonly string[] = []): Outcome {
    const body = this.db.transaction(() =>
      steps.map((step, i) => {
        const result = this.execute(step.sql, step.params ?? {});
        const abort =
          (step.abortIf === 'rows' && result.rows.length > 0) ||
          (step.abortIf === 'none' && result.rows.length === 0 && result.rowCount === 0);
        if (abort) throw new Abort(i, result.rows[0]);
        return result;
      }),
    );
    try {
      return { ok: true, results: locks.length > 0 ? body.immediate() : body() };
    } catch (error) {
      if (error instanceof Abort) return { ok: false, step: error.step, row: error.row };
      throw error;
    }
  }

  close(): void {
    this.db.close();
  }

  execute(sql: string, params: SqlParams = {}): StepResult {
    const { statement, names } = this.prepared(sql);
    const bound = pick(names, params);
    if (statement.reader) {
      const rows = statement.all(bound) as Row[];
      return { rows, rowCount: rows.length };
    }
    return { rows: [], rowCount: statement.run(bound).changes };
  }

  /** Prepared once per distinct SQL text: the same few statements run for every job. */
  private prepared(sql: string) {
    let entry = this.statements.get(sql);
    if (!entry) {
      entry = { statement: this.db.prepare(sql), names: [...new Set(paramNames(sql))] };
      this.statements.set(sql, entry);
    }
    return entry;
  }
}

/** Only the parameters the statement names (better-sqlite3 binds an object's keys by name). */
function pick(names: readonly string[], params: SqlParams): Record<string, unknown> {
  const bound: Record<string, unknown> = {};
  for (const name of names) {
    if (!(name in params)) throw new StoreError(`statement parameter @${name} has no value`);
    bound[name] = params[name];
  }
  return bound;
}

/** Open (creating if needed) `<dataDir>/comfycord.db` in WAL mode and bring its schema up to date. */
export function openSqliteJobStore(options: {
  dataDir: string;
  now: () => number;
  logger: Logger;
  migrations: readonly Migration[];
}): SqlJobStore {
  const path = join(options.dataDir, DATABASE_FILE);
  let db: Db;
  try {
    mkdirSync(options.dataDir, { recursive: true });
    db = new Database(path);
  } catch (error) {
    throw new StoreError(`cannot open the job database ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    const { from, to } = migrate(db, options.migrations);
    if (from !== to) options.logger.info({ path, from, to }, 'job database schema migrated');
    const files = new InputFiles(join(options.dataDir, 'inputs'));
    return new SqlJobStore(new SqliteDriver(db, path), files, options.now);
  } catch (error) {
    db.close();
    if (error instanceof StoreError) throw error;
    throw new StoreError(`cannot prepare the job database ${path}: ${(error as Error).message}`, { cause: error });
  }
}
