import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, MIGRATIONS, type Migration } from '../../src/jobs/migrations.js';
import { openJobStore, type JobStore } from '../../src/jobs/store.js';
import { POSTGRES } from './engines.js';
import { insertAndRead, newJob, tempDataDir } from './helpers.js';

let stores: JobStore[] = [];
afterEach(() => {
  for (const store of stores) store.close();
  stores = [];
});

function openAt(dataDir: string, migrations: readonly Migration[]): JobStore {
  const store = openJobStore({ dataDir, migrations });
  stores.push(store);
  return store;
}

function userVersion(dataDir: string): number {
  const db = new Database(join(dataDir, 'comfycord.db'), { readonly: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}

const LATEST = MIGRATIONS.length;

/** A plausible next schema: a column with a backfilled value and a new table. */
const fakeNext: Migration = {
  version: LATEST + 1,
  description: 'job priority and tags',
  up(db) {
    db.exec(`ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
             UPDATE jobs SET priority = 5 WHERE command = 'imagine';
             CREATE TABLE tags (job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE, tag TEXT NOT NULL);`);
  },
  postgres: `ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
             UPDATE jobs SET priority = 5 WHERE command = 'imagine';
             CREATE TABLE tags (job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE, tag TEXT NOT NULL);`,
};

describe('migrations', () => {
  it('migrates a database with data to the next version on open, keeping the data', () => {
    const dataDir = tempDataDir();
    const current = openAt(dataDir, MIGRATIONS);
    current.insertJob(newJob('j'));
    current.close();
    stores = [];
    expect(userVersion(dataDir)).toBe(LATEST);

    const next = openAt(dataDir, [...MIGRATIONS, fakeNext]);
    expect(next.get('j')?.command).toBe('imagine');
    next.close();
    stores = [];
    expect(userVersion(dataDir)).toBe(LATEST + 1);
    const db = new Database(join(dataDir, 'comfycord.db'), { readonly: true });
    expect(db.prepare('SELECT priority FROM jobs WHERE id = ?').get('j')).toEqual({ priority: 5 });
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'tags'").get()).toEqual({ name: 'tags' });
    db.close();
  });

  it('applies nothing to a database already up to date', () => {
    const db = new Database(':memory:');
    expect(migrate(db)).toEqual({ from: 0, to: LATEST });
    expect(migrate(db)).toEqual({ from: LATEST, to: LATEST });
    db.close();
  });

  it('gives jobs of a version 1 database no lineage beyond their parent id (migration 2)', () => {
    const dataDir = tempDataDir();
    const v1 = openAt(dataDir, MIGRATIONS.slice(0, 1));
    v1.close();
    stores = [];
    const raw = new Database(join(dataDir, 'comfycord.db'));
    raw.prepare(
      `INSERT INTO jobs (id, state, prompt_id, owner_id, command, params, workflow, parent_id, created_at, updated_at)
       VALUES ('old', 'succeeded', 'p', 'u', 'imagine', '{}', '{}', 'older', 1, 1)`,
    ).run();
    raw.close();
    const current = openAt(dataDir, MIGRATIONS);
    expect(current.get('old')).toMatchObject({ parentId: 'older', parentOutput: null, parentAction: null });
    current.insertJob({ ...newJob('child'), parentId: 'old', parentOutput: 2, parentAction: 'vary' });
    expect(current.get('child')).toMatchObject({ parentId: 'old', parentOutput: 2, parentAction: 'vary' });
  });

  it('rolls a failed migration back completely and names it', () => {
    const dataDir = tempDataDir();
    openAt(dataDir, MIGRATIONS).close();
    stores = [];
    const broken: Migration = {
      version: LATEST + 1,
      description: 'half-done change',
      up(db) {
        db.exec('CREATE TABLE half (x INTEGER)');
        db.exec('ALTER TABLE no_such_table ADD COLUMN y INTEGER');
      },
      postgres: 'CREATE TABLE half (x INTEGER); ALTER TABLE no_such_table ADD COLUMN y INTEGER',
    };
    expect(() => openJobStore({ dataDir, migrations: [...MIGRATIONS, broken] })).toThrow(
      `migration ${LATEST + 1} (half-done change) failed: no such table: no_such_table`,
    );
    expect(userVersion(dataDir)).toBe(LATEST);
    const db = new Database(join(dataDir, 'comfycord.db'), { readonly: true });
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeUndefined();
    db.close();
  });

  it('refuses a database from a newer comfycord', () => {
    const dataDir = tempDataDir();
    openAt(dataDir, [...MIGRATIONS, fakeNext]).close();
    stores = [];
    expect(() => openJobStore({ dataDir })).toThrow(
      `the database has schema version ${LATEST + 1}, newer than this comfycord knows (${LATEST}); upgrade comfycord or point it at another data directory`,
    );
  });

  it('refuses a migration list with gaps', () => {
    const db = new Database(':memory:');
    expect(() => migrate(db, [MIGRATIONS[0]!, { ...fakeNext, version: 3 }])).toThrow(
      'migrations must be numbered 1, 2, 3, … in order; found 1, 3',
    );
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    db.close();
  });

  /** A data dir whose database is at schema 1 with one finished job `id` in it. */
  function v1DatabaseWithJob(id: string): string {
    const dataDir = tempDataDir();
    const v1 = new Database(join(dataDir, 'comfycord.db'));
    migrate(v1, MIGRATIONS.slice(0, 1));
    v1.prepare(
      `INSERT INTO jobs (id, state, prompt_id, owner_id, command, params, workflow, created_at, updated_at)
       VALUES (?, 'succeeded', 'p', 'u', 'imagine', '{}', '{}', 1, 1)`,
    ).run(id);
    v1.close();
    return dataDir;
  }

  it('v2 keeps the upload limit a job was planned for; jobs from v1 read as the default (null)', () => {
    const dataDir = v1DatabaseWithJob('old');

    // Opened by today's code: every later migration runs too, and v2's column reads as it should.
    const store = openAt(dataDir, MIGRATIONS);
    expect(userVersion(dataDir)).toBe(LATEST);
    expect(store.get('old')?.uploadLimit).toBeNull();
    expect(insertAndRead(store, newJob('boosted', { uploadLimit: 50 * 1024 * 1024 })).uploadLimit).toBe(50 * 1024 * 1024);
    store.updateJob('old', { uploadLimit: 10 * 1024 * 1024 });
    expect(store.get('old')?.uploadLimit).toBe(10 * 1024 * 1024);
    expect(() => store.insertJob(newJob('bad', { uploadLimit: 0 }))).toThrow('could not save job bad: CHECK constraint failed');
  });

  it("v4 adds the servers' own commands to a database that has jobs", () => {
    const dataDir = v1DatabaseWithJob('j');
    const store = openAt(dataDir, MIGRATIONS);
    expect(store.get('j')?.command).toBe('imagine');
    expect(store.guildCommands()).toEqual([]);
    expect(store.insertGuildCommand({ guildId: '1', name: 'fox', commandFile: 'name: fox', template: '{}', createdBy: '2' })).toBe(true);
    expect(store.guildCommands('1').map((row) => row.name)).toEqual(['fox']);
  });
});

describe('migrations on PostgreSQL', () => {
  const openPg = (dataDir: string, migrations: readonly Migration[]) => {
    const store = POSTGRES.open({ dataDir, migrations });
    stores.push(store);
    return store;
  };
  const versions = (dataDir: string) => POSTGRES.raw(dataDir, 'SELECT version FROM schema_migrations ORDER BY version').map((r) => r.version);

  it('numbers the versions as SQLite does, in schema_migrations, and migrates to the next keeping the data', () => {
    const dataDir = tempDataDir();
    openPg(dataDir, MIGRATIONS).insertJob(newJob('j'));
    expect(versions(dataDir)).toEqual(MIGRATIONS.map((m) => m.version));
    const next = openPg(dataDir, [...MIGRATIONS, fakeNext]);
    expect(next.get('j')?.command).toBe('imagine');
    expect(versions(dataDir)).toEqual([...MIGRATIONS, fakeNext].map((m) => m.version));
    expect(POSTGRES.raw(dataDir, "SELECT priority FROM jobs WHERE id = 'j'")).toEqual([{ priority: 5 }]);
  });

  it('rolls a failed migration back completely and names it', () => {
    const dataDir = tempDataDir();
    openPg(dataDir, MIGRATIONS);
    const broken: Migration = { ...fakeNext, description: 'half-done change', postgres: 'CREATE TABLE half (x INTEGER); ALTER TABLE no_such_table ADD COLUMN y INTEGER' };
    expect(() => openPg(dataDir, [...MIGRATIONS, broken])).toThrow(
      `migration ${LATEST + 1} (half-done change) failed: relation "no_such_table" does not exist`,
    );
    expect(versions(dataDir)).toHaveLength(LATEST);
    expect(POSTGRES.raw(dataDir, "SELECT to_regclass('half') AS t")).toEqual([{ t: null }]);
  });

  it('refuses a database from a newer comfycord', () => {
    const dataDir = tempDataDir();
    openPg(dataDir, [...MIGRATIONS, fakeNext]);
    expect(() => openPg(dataDir, MIGRATIONS)).toThrow(
      `the database has schema version ${LATEST + 1}, newer than this comfycord knows (${LATEST}); upgrade comfycord or point it at another database`,
    );
  });

  it('says which database it cannot reach, without its password', () => {
    expect(() => openJobStore({ dataDir: tempDataDir(), databaseUrl: 'postgres://bot:hunter2@127.0.0.1:1/comfycord' })).toThrow(
      /^cannot open the job database postgres:\/\/bot:\*\*\*@127\.0\.0\.1:1\/comfycord: connect ECONNREFUSED 127\.0\.0\.1:1$/,
    );
    expect(() => openJobStore({ dataDir: tempDataDir(), databaseUrl: 'mysql://x@h/db' })).toThrow(
      'the database URL must start with postgres:// or postgresql://, got mysql://x@h/db',
    );
  });
});
