// The store's tests run on both engines: SQLite in a temp data dir, and PostgreSQL (the test run's real server)
// in a fresh schema per data dir, so reopening a data dir reopens the same database on either engine.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll } from 'vitest';
import { SyncPg } from '../../src/jobs/pg-bridge.js';
import { openJobStore, type JobStore, type JobStoreOptions } from '../../src/jobs/store.js';
import { freshSchemaUrl } from '../pg/schema.js';

export interface Engine {
  name: 'sqlite' | 'postgres';
  /** The store of `dataDir` on this engine (the same database each time for the same dir). */
  open(options: Omit<JobStoreOptions, 'databaseUrl'>): JobStore;
  /** The database URL for `dataDir` (undefined: SQLite). */
  databaseUrl(dataDir: string): string | undefined;
  /** Runs raw SQL on the database of `dataDir`, bypassing the store (a hand edit); returns its rows. */
  raw(dataDir: string, sql: string): Record<string, unknown>[];
}

const schemas = new Map<string, string>();
const rawConnections = new Map<string, SyncPg>();
afterAll(() => {
  for (const connection of rawConnections.values()) connection.close();
  rawConnections.clear();
});

function schemaUrl(dataDir: string): string {
  let url = schemas.get(dataDir);
  if (!url) {
    url = freshSchemaUrl();
    schemas.set(dataDir, url);
  }
  return url;
}

export const SQLITE: Engine = {
  name: 'sqlite',
  open: (options) => openJobStore(options),
  databaseUrl: () => undefined,
  raw(dataDir, sql) {
    const db = new Database(join(dataDir, 'comfycord.db'));
    try {
      const statement = db.prepare(sql);
      if (!statement.reader) {
        statement.run();
        return [];
      }
      return statement.all() as Record<string, unknown>[];
    } finally {
      db.close();
    }
  },
};

export const POSTGRES: Engine = {
  name: 'postgres',
  open: (options) => openJobStore({ ...options, databaseUrl: schemaUrl(options.dataDir) }),
  databaseUrl: schemaUrl,
  raw(dataDir, sql) {
    const url = schemaUrl(dataDir);
    let connection = rawConnections.get(url);
    if (!connection) {
      connection = new SyncPg(url);
      rawConnections.set(url, connection);
    }
    return connection.query(sql).rows;
  },
};

export const ENGINES: readonly Engine[] = [SQLITE, POSTGRES];
