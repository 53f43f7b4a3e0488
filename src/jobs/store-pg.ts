// The job store's PostgreSQL engine, for several processes sharing one store. node-postgres runs on a worker
// thread behind a synchronous call (pg-bridge.ts), so the store keeps SQLite's synchronous interface. A
// transaction goes to the worker whole and runs there in one round trip; transactions that decide something
// about a user or a server first take transaction-scoped advisory locks on them (pg_advisory_xact_lock), so two
// processes admitting jobs of the same user or server take turns, each counting what the other committed.
import { join } from 'node:path';
import type { Logger } from '../config/logger.js';
import type { Migration } from './migrations.js';
import { PgError, redactUrl, SyncPg, type TxStep } from './pg-bridge.js';
import { toPositional, type Outcome, type Row, type SqlDriver, type SqlParams, type Step, type StepResult } from './store-driver.js';
import { StoreError } from './store-errors.js';
import { InputFiles } from './store-files.js';
import { SqlJobStore } from './store-sql.js';

class PgDriver implements SqlDriver {
  readonly dialect = 'postgres';
  private readonly texts = new Map<string, { text: string; names: string[] }>();

  constructor(
    private readonly pg: SyncPg,
    readonly where: string,
  ) {}

  all<T = Row>(sql: string, params: SqlParams = {}): T[] {
    const { text, values } = this.bind(sql, params);
    return this.pg.query(text, values).rows as T[];
  }

  execute(sql: string, params: SqlParams = {}): StepResult {
    const { text, values } = this.bind(sql, params);
    return this.pg.query(text, values);
  }

  transaction(steps: readonly Step[], locks: readonly string[] = []): Outcome {
    // Sorted, so two transactions naming the same locks take them in the same order (no deadlock).
    const lockSteps: TxStep[] = [...locks].sort().map((key) => ({
      sql: 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))',
      params: [`comfycord:${key}`],
    }));
    const bound: TxStep[] = steps.map((step) => {
      const { text, values } = this.bind(step.sql, step.params ?? {});
      return step.abortIf ? { sql: text, params: values, abortIf: step.abortIf } : { sql: text, params: values };
    });
    const outcome = this.pg.transaction([...lockSteps, ...bound]);
    if (outcome.ok) return { ok: true, results: outcome.results.slice(lockSteps.length) };
    return { ok: false, step: outcome.step - lockSteps.length, row: outcome.row };
  }

  close(): void {
    this.pg.close();
  }

  private bind(sql: string, params: SqlParams): { text: string; values: unknown[] } {
    let entry = this.texts.get(sql);
    if (!entry) {
      entry = toPositional(sql);
      this.texts.set(sql, entry);
    }
    const values = entry.names.map((name) => {
      if (!(name in params)) throw new StoreError(`statement parameter @${name} has no value`);
      return params[name];
    });
    return { text: entry.text, values };
  }
}

const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  description TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;

/**
 * Apply every migration newer than the database, each in its own transaction with its row in
 * schema_migrations. Processes starting together take turns on an advisory lock; one finding a migration
 * already applied by another skips it.
 */
export function migratePg(pg: SyncPg, migrations: readonly Migration[], now: () => number): { from: number; to: number } {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      const found = migrations.map((x) => x.version).join(', ');
      throw new StoreError(`migrations must be numbered 1, 2, 3, … in order; found ${found}`);
    }
  });
  const latest = migrations.length;
  // Serialised with every other process's migrations: CREATE TABLE IF NOT EXISTS races otherwise.
  const lock: TxStep = { sql: "SELECT pg_advisory_xact_lock(hashtextextended('comfycord:migrations', 0))", params: [] };
  pg.transaction([lock, { sql: MIGRATIONS_TABLE, params: [] }]);
  const from = Number(pg.query('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').rows[0]?.v ?? 0);
  if (from > latest) {
    throw new StoreError(
      `the database has schema version ${from}, newer than this comfycord knows (${latest}); ` +
        'upgrade comfycord or point it at another database',
    );
  }
  for (const migration of migrations.slice(from)) {
    try {
      pg.transaction([
        lock,
        { sql: 'SELECT 1 FROM schema_migrations WHERE version = $1', params: [migration.version], abortIf: 'rows' },
        { sql: migration.postgres, params: [] },
        {
          sql: 'INSERT INTO schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)',
          params: [migration.version, migration.description, now()],
        },
      ]);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const name = `migration ${migration.version} (${migration.description})`;
      throw new StoreError(`${name} failed: ${reason}`, { cause: error });
    }
  }
  return { from, to: latest };
}

/** Connect to PostgreSQL at `url`, bring its schema up to date, keep image inputs under `<dataDir>/inputs`. */
export function openPgJobStore(options: {
  url: string;
  dataDir: string;
  now: () => number;
  logger: Logger;
  migrations: readonly Migration[];
}): SqlJobStore {
  const where = redactUrl(options.url);
  if (!/^postgres(ql)?:\/\//.test(options.url)) {
    throw new StoreError(`the database URL must start with postgres:// or postgresql://, got ${where}`);
  }
  const pg = new SyncPg(options.url);
  try {
    const { from, to } = migratePg(pg, options.migrations, options.now);
    if (from !== to) options.logger.info({ database: where, from, to }, 'job database schema migrated');
    const files = new InputFiles(join(options.dataDir, 'inputs'));
    return new SqlJobStore(new PgDriver(pg, where), files, options.now);
  } catch (error) {
    pg.close();
    if (error instanceof StoreError && !(error instanceof PgError)) throw error;
    throw new StoreError(`cannot open the job database ${where}: ${(error as Error).message}`, { cause: error });
  }
}
