// Schema versions of the job store, applied in order on start-up, numbered alike on both engines: each migration
// carries its SQLite change (`up`) and its PostgreSQL text. SQLite records the last one in PRAGMA user_version,
// PostgreSQL in the schema_migrations table (see store-pg.ts).
import type { Database } from 'better-sqlite3';
import { StoreError } from './store-errors.js';

export interface Migration {
  version: number;
  description: string;
  up(db: Database): void;
  /** The same change in PostgreSQL's dialect (one text; it runs in a transaction with the version's row). */
  postgres: string;
}

const v1: Migration = {
  version: 1,
  description: 'jobs, image inputs, deliveries, guild settings, user defaults, daily usage',
  // Epoch milliseconds are BIGINT; job_inputs and deliveries get an identity column for the insertion order
  // SQLite reads from rowid.
  postgres: `
    CREATE TABLE jobs (
      seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      state TEXT NOT NULL CHECK (state IN ('queued','dispatched','running','succeeded','failed','cancelled')),
      prompt_id TEXT NOT NULL,
      owner_id TEXT NOT NULL,
      guild_id TEXT,
      channel_id TEXT,
      message_id TEXT,
      interaction_token TEXT,
      token_expires_at BIGINT,
      command TEXT NOT NULL,
      params TEXT NOT NULL,
      workflow TEXT NOT NULL,
      backend TEXT,
      attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
      error TEXT,
      outputs TEXT,
      delivery TEXT NOT NULL DEFAULT 'none' CHECK (delivery IN ('none','pending','delivered')),
      parent_id TEXT,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      started_at BIGINT,
      finished_at BIGINT,
      CHECK ((interaction_token IS NULL) = (token_expires_at IS NULL))
    );
    CREATE INDEX jobs_state ON jobs (state, seq);
    CREATE INDEX jobs_owner ON jobs (owner_id, created_at);
    CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
    CREATE INDEX jobs_prompt ON jobs (prompt_id);

    CREATE TABLE job_inputs (
      seq BIGINT GENERATED ALWAYS AS IDENTITY,
      job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
      option TEXT NOT NULL,
      filename TEXT NOT NULL,
      mime TEXT NOT NULL,
      sha256 TEXT NOT NULL,
      size BIGINT NOT NULL,
      PRIMARY KEY (job_id, option)
    );
    CREATE INDEX job_inputs_sha ON job_inputs (sha256);

    CREATE TABLE deliveries (
      seq BIGINT GENERATED ALWAYS AS IDENTITY,
      job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
      file TEXT NOT NULL,
      message_id TEXT NOT NULL,
      delivered_at BIGINT NOT NULL,
      PRIMARY KEY (job_id, file)
    );

    CREATE TABLE guild_settings (
      guild_id TEXT PRIMARY KEY,
      settings TEXT NOT NULL,
      updated_at BIGINT NOT NULL
    );

    CREATE TABLE user_defaults (
      user_id TEXT NOT NULL,
      command TEXT NOT NULL,
      options TEXT NOT NULL,
      updated_at BIGINT NOT NULL,
      PRIMARY KEY (user_id, command)
    );

    CREATE TABLE daily_usage (
      user_id TEXT NOT NULL,
      day TEXT NOT NULL,
      count INTEGER NOT NULL,
      PRIMARY KEY (user_id, day)
    );
  `,
  up(db) {
    db.exec(`
      CREATE TABLE jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL CHECK (state IN ('queued','dispatched','running','succeeded','failed','cancelled')),
        prompt_id TEXT NOT NULL,
        owner_id TEXT NOT NULL,
        guild_id TEXT,
        channel_id TEXT,
        message_id TEXT,
        interaction_token TEXT,
        token_expires_at INTEGER,
        command TEXT NOT NULL,
        params TEXT NOT NULL,
        workflow TEXT NOT NULL,
        backend TEXT,
        attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        error TEXT,
        outputs TEXT,
        delivery TEXT NOT NULL DEFAULT 'none' CHECK (delivery IN ('none','pending','delivered')),
        parent_id TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER,
        CHECK ((interaction_token IS NULL) = (token_expires_at IS NULL))
      );
      CREATE INDEX jobs_state ON jobs (state, seq);
      CREATE INDEX jobs_owner ON jobs (owner_id, created_at);
      CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
      CREATE INDEX jobs_prompt ON jobs (prompt_id);

      CREATE TABLE job_inputs (
        job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        option TEXT NOT NULL,
        filename TEXT NOT NULL,
        mime TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        PRIMARY KEY (job_id, option)
      );
      CREATE INDEX job_inputs_sha ON job_inputs (sha256);

      CREATE TABLE deliveries (
        job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        file TEXT NOT NULL,
        message_id TEXT NOT NULL,
        delivered_at INTEGER NOT NULL,
        PRIMARY KEY (job_id, file)
      );

      CREATE TABLE guild_settings (
        guild_id TEXT PRIMARY KEY,
        settings TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );

      CREATE TABLE user_defaults (
        user_id TEXT NOT NULL,
        command TEXT NOT NULL,
        options TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, command)
      );

      CREATE TABLE daily_usage (
        user_id TEXT NOT NULL,
        day TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (user_id, day)
      );
    `);
  },
};

const v2: Migration = {
  version: 2,
  description: "the upload limit a job's results are fitted and batched for",
  postgres: 'ALTER TABLE jobs ADD COLUMN upload_limit BIGINT CHECK (upload_limit IS NULL OR upload_limit > 0)',
  up(db) {
    // NULL for jobs from before: they were planned for Discord's default limit, which is what NULL still means.
    db.exec('ALTER TABLE jobs ADD COLUMN upload_limit INTEGER CHECK (upload_limit IS NULL OR upload_limit > 0)');
  },
};

const v3: Migration = {
  version: 3,
  description: 'lineage: which output of the parent and which action a job was made from; jobs by message',
  postgres: `
    ALTER TABLE jobs ADD COLUMN parent_output INTEGER CHECK (parent_output IS NULL OR parent_output >= 1);
    ALTER TABLE jobs ADD COLUMN parent_action TEXT;
    CREATE INDEX jobs_parent ON jobs (parent_id) WHERE parent_id IS NOT NULL;
    CREATE INDEX jobs_message ON jobs (message_id) WHERE message_id IS NOT NULL;
    CREATE INDEX deliveries_message ON deliveries (message_id);
  `,
  up(db) {
    db.exec(`
      ALTER TABLE jobs ADD COLUMN parent_output INTEGER CHECK (parent_output IS NULL OR parent_output >= 1);
      ALTER TABLE jobs ADD COLUMN parent_action TEXT;
      CREATE INDEX jobs_parent ON jobs (parent_id) WHERE parent_id IS NOT NULL;
      CREATE INDEX jobs_message ON jobs (message_id) WHERE message_id IS NOT NULL;
      CREATE INDEX deliveries_message ON deliveries (message_id);
    `);
  },
};

const v4: Migration = {
  version: 4,
  description: "servers' own commands (command file and template, per guild)",
  postgres: `
    CREATE TABLE guild_commands (
      guild_id TEXT NOT NULL,
      name TEXT NOT NULL,
      command_file TEXT NOT NULL,
      template TEXT NOT NULL,
      created_by TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      PRIMARY KEY (guild_id, name)
    );
  `,
  up(db) {
    db.exec(`
      CREATE TABLE guild_commands (
        guild_id TEXT NOT NULL,
        name TEXT NOT NULL,
        command_file TEXT NOT NULL,
        template TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (guild_id, name)
      );
    `);
  },
};

const v5: Migration = {
  version: 5,
  description: "GPU time: each finished job's execution time on its backend, weighted by the backend's cost",
  postgres: `
    ALTER TABLE jobs ADD COLUMN gpu_ms BIGINT CHECK (gpu_ms IS NULL OR gpu_ms >= 0);
    CREATE INDEX jobs_gpu_by_owner ON jobs (owner_id, finished_at) WHERE gpu_ms IS NOT NULL;
    CREATE INDEX jobs_gpu_by_finish ON jobs (finished_at) WHERE gpu_ms IS NOT NULL;
  `,
  up(db) {
    // NULL: not measured (queued, lost before it started, or finished before this column existed).
    db.exec(`
      ALTER TABLE jobs ADD COLUMN gpu_ms INTEGER CHECK (gpu_ms IS NULL OR gpu_ms >= 0);
      CREATE INDEX jobs_gpu_by_owner ON jobs (owner_id, finished_at) WHERE gpu_ms IS NOT NULL;
      CREATE INDEX jobs_gpu_by_finish ON jobs (finished_at) WHERE gpu_ms IS NOT NULL;
    `);
  },
};

const v6: Migration = {
  version: 6,
  description: 'the leader lease and its fencing number',
  up(db) {
    db.exec(`
      CREATE TABLE leader_lease (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        fence INTEGER NOT NULL CHECK (fence >= 1),
        acquired_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
    `);
  },
  postgres: `
    CREATE TABLE leader_lease (
      name TEXT PRIMARY KEY,
      holder TEXT NOT NULL,
      fence BIGINT NOT NULL CHECK (fence >= 1),
      acquired_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL
    );
  `,
};

const v7: Migration = {
  version: 7,
  description: "relax mode: each job's mode (its GPU time counts in the fast quotas or not) and each member's chosen mode",
  up(db) {
    // Jobs from before are fast: they counted in the quotas.
    db.exec(`
      ALTER TABLE jobs ADD COLUMN mode TEXT NOT NULL DEFAULT 'fast' CHECK (mode IN ('fast', 'relax'));
      CREATE TABLE user_modes (
        user_id TEXT PRIMARY KEY,
        mode TEXT NOT NULL CHECK (mode IN ('fast', 'relax')),
        updated_at INTEGER NOT NULL
      );
    `);
  },
  postgres: `
    ALTER TABLE jobs ADD COLUMN mode TEXT NOT NULL DEFAULT 'fast' CHECK (mode IN ('fast', 'relax'));
    CREATE TABLE user_modes (
      user_id TEXT PRIMARY KEY,
      mode TEXT NOT NULL CHECK (mode IN ('fast', 'relax')),
      updated_at BIGINT NOT NULL
    );
  `,
};

const PROCESSES = `
  CREATE TABLE processes (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    shards TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('leader', 'standby')),
    started_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
  );
`;

const v8: Migration = {
  version: 8,
  description: 'the processes sharing the store, with their role and heartbeat',
  up(db) {
    db.exec(PROCESSES);
  },
  postgres: PROCESSES,
};

// All three or none: a request is whole. The moderator flag is 0/1 on both engines, read the same way. Column
// checks (SQLite cannot add a table constraint to an existing table), so the one text serves both engines.
const CANCEL_REQUEST = `
  ALTER TABLE jobs ADD COLUMN cancel_user TEXT;
  ALTER TABLE jobs ADD COLUMN cancel_moderator INTEGER
    CHECK ((cancel_moderator IS NULL) = (cancel_user IS NULL) AND (cancel_moderator IS NULL OR cancel_moderator IN (0, 1)));
  ALTER TABLE jobs ADD COLUMN cancel_at BIGINT CHECK ((cancel_at IS NULL) = (cancel_user IS NULL));
`;

const v9: Migration = {
  version: 9,
  description: "a member's cancel request on a job, recorded by any process for the leader to carry out",
  up(db) {
    db.exec(CANCEL_REQUEST);
  },
  postgres: CANCEL_REQUEST,
};

const v10: Migration = {
  version: 10,
  description: "when a queued job's wait for a backend began, and the claim of the process that tells members a leader was lost",
  up(db) {
    db.exec(`
      ALTER TABLE jobs ADD COLUMN wait_since INTEGER;
      CREATE TABLE leader_loss_claims (
        fence INTEGER PRIMARY KEY,
        claimed_by TEXT NOT NULL,
        claimed_at INTEGER NOT NULL
      );
    `);
  },
  postgres: `
    ALTER TABLE jobs ADD COLUMN wait_since BIGINT;
    CREATE TABLE leader_loss_claims (
      fence BIGINT PRIMARY KEY,
      claimed_by TEXT NOT NULL,
      claimed_at BIGINT NOT NULL
    );
  `,
};

/**
 * The operators' holds (the whole bot, one backend) and the leader's published view of what only it knows
 * (queue places, run starts, backends' health): several processes read both. A server's own hold stays in its
 * settings (`queue`).
 */
const SHARED_STATE = `
  CREATE TABLE holds (
    scope TEXT PRIMARY KEY,
    hold TEXT NOT NULL CHECK (hold IN ('paused', 'draining')),
    updated_at BIGINT NOT NULL
  );
  CREATE TABLE leader_view (
    name TEXT PRIMARY KEY,
    fence BIGINT NOT NULL,
    view TEXT NOT NULL,
    published_at BIGINT NOT NULL
  );
`;

const v11: Migration = {
  version: 11,
  description: "the operators' holds and the leader's published view, shared by every process",
  up(db) {
    db.exec(SHARED_STATE);
  },
  postgres: SHARED_STATE,
};

export const MIGRATIONS: readonly Migration[] = [v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11];

export interface MigrationResult {
  from: number;
  to: number;
}

/** Apply every migration newer than the database, each in its own transaction together with its version bump. */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): MigrationResult {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      const found = migrations.map((x) => x.version).join(', ');
      throw new StoreError(`migrations must be numbered 1, 2, 3, … in order; found ${found}`);
    }
  });
  const latest = migrations.length;
  const from = db.pragma('user_version', { simple: true }) as number;
  if (from > latest) {
    throw new StoreError(
      `the database has schema version ${from}, newer than this comfycord knows (${latest}); ` +
        'upgrade comfycord or point it at another data directory',
    );
  }
  for (const migration of migrations.slice(from)) {
    try {
      db.transaction(() => {
        migration.up(db);
        db.pragma(`user_version = ${migration.version}`);
      })();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const name = `migration ${migration.version} (${migration.description})`;
      throw new StoreError(`${name} failed: ${reason}`, { cause: error });
    }
  }
  return { from, to: latest };
}
