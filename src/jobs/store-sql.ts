// The job store over either engine: one class, one set of SQL texts (named @parameters, quoted aliases), run by
// a driver for SQLite or PostgreSQL. Plain rows in and out. Every change that must be atomic is one statement
// (the compare-and-set transition) or one transaction given whole to the driver (insert, admission, delivery).
import type { JobMode } from './job.js';
import { InputFiles } from './store-files.js';
import { FencedError, StoreError } from './store-errors.js';
import type { Outcome, Row, SqlDriver, Step, StepResult } from './store-driver.js';
import {
  guildSettingsSchema,
  parseSettings,
  userDefaultsSchema,
  type GuildSettings,
  type GuildSettingsPatch,
  type UserDefaults,
} from './store-settings.js';
import {
  FINISHED_STATES,
  JOB_STATES,
  WAKE_CHANNEL,
  type Admission,
  type AdmissionCaps,
  type CancelRequest,
  type CancelRequestResult,
  type DeliveryRecord,
  type GuildCommandRow,
  type GpuCharge,
  type GpuUserTotal,
  type JobPatch,
  type JobRow,
  type JobState,
  type Hold,
  type HoldScope,
  type Lease,
  type StoredHolds,
  type ProcessRow,
  type NewJobRow,
  type SavedInput,
  type StoredImage,
} from './store-types.js';
import type { JobStore } from './store.js';
import { leaderViewSchema, type LeaderView, type PublishedView } from './leader-view.js';

const DAY_MS = 86_400_000;

/** A job's image inputs and deliveries as JSON arrays in insertion order, in each engine's dialect. */
const JSON_LISTS = {
  sqlite: `(SELECT json_group_array(json_object('option', option, 'filename', filename, 'mime', mime, 'sha256', sha256, 'size', size)
              ORDER BY rowid) FROM job_inputs WHERE job_id = jobs.id) AS images_json,
           (SELECT json_group_array(json_object('message_id', message_id, 'file', file, 'delivered_at', delivered_at)
              ORDER BY delivered_at, rowid) FROM deliveries WHERE job_id = jobs.id) AS deliveries_json`,
  postgres: `(SELECT COALESCE(json_agg(json_build_object('option', option, 'filename', filename, 'mime', mime, 'sha256', sha256, 'size', size)
                ORDER BY seq), '[]')::text FROM job_inputs WHERE job_id = jobs.id) AS images_json,
             (SELECT COALESCE(json_agg(json_build_object('message_id', message_id, 'file', file, 'delivered_at', delivered_at)
                ORDER BY delivered_at, seq), '[]')::text FROM deliveries WHERE job_id = jobs.id) AS deliveries_json`,
} as const;
const LIVE_STATES = "('queued', 'dispatched', 'running')";

interface JobRecord {
  id: string;
  state: JobState;
  prompt_id: string;
  owner_id: string;
  guild_id: string | null;
  channel_id: string | null;
  message_id: string | null;
  interaction_token: string | null;
  token_expires_at: number | null;
  command: string;
  params: string;
  workflow: string;
  backend: string | null;
  attempts: number;
  error: string | null;
  outputs: string | null;
  delivery: JobRow['delivery'];
  upload_limit: number | null;
  parent_id: string | null;
  parent_output: number | null;
  parent_action: string | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
  gpu_ms: number | null;
  mode: JobMode;
  cancel_user: string | null;
  cancel_moderator: number | null;
  cancel_at: number | null;
  wait_since: number | null;
}

/** A job row as read, with its inputs and deliveries (JSON arrays, see selectJobs). */
interface JobRecordWithLists extends JobRecord {
  images_json: string;
  deliveries_json: string;
}

type Column = keyof JobRecord;
type SqlValue = string | number | null;
type ColumnWriter = (value: unknown) => Partial<Record<Column, SqlValue>>;

/** How each patchable field is written. */
const PATCH_COLUMNS: { [K in keyof Required<JobPatch>]: (value: JobPatch[K]) => Partial<Record<Column, SqlValue>> } = {
  promptId: (v) => ({ prompt_id: v ?? null }),
  messageId: (v) => ({ message_id: v ?? null }),
  interaction: (v) => ({ interaction_token: v?.token ?? null, token_expires_at: v?.expiresAt ?? null }),
  backend: (v) => ({ backend: v ?? null }),
  attempts: (v) => ({ attempts: v ?? 0 }),
  error: (v) => ({ error: v ?? null }),
  outputs: (v) => ({ outputs: v ? JSON.stringify(v) : null }),
  delivery: (v) => ({ delivery: v ?? 'none' }),
  uploadLimit: (v) => ({ upload_limit: v ?? null }),
  params: (v) => ({ params: JSON.stringify(v ?? {}) }),
  workflow: (v) => ({ workflow: JSON.stringify(v ?? {}) }),
  startedAt: (v) => ({ started_at: v ?? null }),
  finishedAt: (v) => ({ finished_at: v ?? null }),
  gpuMs: (v) => ({ gpu_ms: v ?? null }),
  waitSince: (v) => ({ wait_since: v ?? null }),
};

function patchToColumns(jobId: string, patch: JobPatch): Partial<Record<Column, SqlValue>> {
  const columns: Partial<Record<Column, SqlValue>> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const write = PATCH_COLUMNS[key as keyof JobPatch] as ColumnWriter | undefined;
    if (!write) {
      const hint = key === 'state' ? ' (states change only through transition())' : '';
      throw new StoreError(`cannot update field "${key}" of job ${jobId}${hint}`);
    }
    Object.assign(columns, write(value));
  }
  return columns;
}

const NO_TOKEN: Partial<Record<Column, SqlValue>> = { interaction_token: null, token_expires_at: null };

function assertState(state: string, jobId: string): asserts state is JobState {
  if (!(JOB_STATES as readonly string[]).includes(state)) {
    throw new StoreError(`"${state}" is not a job state (job ${jobId}); expected one of ${JOB_STATES.join(', ')}`);
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new StoreError(`${what} are not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** "YYYY-MM-DD" of a UTC day: daily quotas reset at midnight UTC. */
export function utcDay(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

type StoredGuildSettings = { settings: GuildSettings; stored: string | null };

/**
 * A guild that never saved a setting (most of them): the defaults, parsed once and handed out to every job of
 * every such guild, frozen so no caller can change one guild's defaults for all of them.
 */
const UNSET_GUILD_SETTINGS: StoredGuildSettings = { settings: frozen(parseSettings(guildSettingsSchema, {}, 'the default guild settings')), stored: null };

function frozen<T extends object>(settings: T): T {
  for (const value of Object.values(settings)) if (typeof value === 'object' && value !== null) Object.freeze(value);
  return Object.freeze(settings);
}

/** Attempts of a settings change that lost a race with another process's before it gives up. */
const SETTINGS_ATTEMPTS = 5;

export class SqlJobStore implements JobStore {
  /** Inputs saved by saveInput whose job row is not written yet. */
  private readonly claimed = new Set<string>();
  /** Each guild's parsed settings with the stored text they came from (see guildSettings). */
  private readonly parsedSettings = new Map<string, { settings: GuildSettings; stored: string }>();
  /** The fencing number of the leader lease this store took, if it took one: every write carries it. */
  private fence: number | null = null;
  /**
   * Job rows with their image inputs and deliveries as JSON arrays (in the order they were added: SQLite's
   * rowid, an identity column on PostgreSQL), so a row is one query, not three: on PostgreSQL each query is a
   * round trip the calling thread waits for.
   */
  private readonly selectJobs: string;

  constructor(
    private readonly db: SqlDriver,
    private readonly files: InputFiles,
    private readonly now: () => number,
  ) {
    this.selectJobs = `SELECT jobs.*, ${JSON_LISTS[db.dialect]} FROM jobs`;
  }

  get engine(): 'sqlite' | 'postgres' {
    return this.db.dialect;
  }

  /** Write a new 'queued' job and its image inputs in one transaction (read it back with `get`, if needed). */
  insertJob(job: NewJobRow): void {
    const outcome = this.writeNewJob(job, [], [], []);
    if (!outcome.ok) throw new StoreError(`could not save job ${job.id}: the transaction was aborted`);
  }

  /**
   * Admission and insert in one transaction: counts the owner's and the server's live jobs (queued, dispatched,
   * running) and the owner's jobs today, and writes the job only if every count is under its cap, counting it in
   * the day's usage. Transactions about the same user or server never overlap, so two processes cannot both
   * admit a job past a cap.
   */
  admitJob(job: NewJobRow, caps: AdmissionCaps): Admission {
    const guards: Step[] = [];
    const limits: (keyof AdmissionCaps)[] = [];
    const live = `SELECT COUNT(*) AS n FROM jobs WHERE state IN ${LIVE_STATES}`;
    if (caps.userLive !== undefined) {
      guards.push({ sql: `${live} AND owner_id = @owner HAVING COUNT(*) >= @cap`, params: { owner: job.ownerId, cap: caps.userLive }, abortIf: 'rows' });
      limits.push('userLive');
    }
    if (caps.guildLive !== undefined) {
      const where = job.guildId === null ? 'guild_id IS NULL' : 'guild_id = @guild';
      guards.push({ sql: `${live} AND ${where} HAVING COUNT(*) >= @cap`, params: { guild: job.guildId, cap: caps.guildLive }, abortIf: 'rows' });
      limits.push('guildLive');
    }
    const day = utcDay(this.now());
    if (caps.dailyQuota !== undefined) {
      guards.push({
        sql: 'SELECT count AS n FROM daily_usage WHERE user_id = @owner AND day = @day AND count >= @cap',
        params: { owner: job.ownerId, day, cap: caps.dailyQuota },
        abortIf: 'rows',
      });
      limits.push('dailyQuota');
    }
    const usage: Step = {
      sql: `INSERT INTO daily_usage (user_id, day, count) VALUES (@owner, @day, 1)
            ON CONFLICT (user_id, day) DO UPDATE SET count = daily_usage.count + 1`,
      params: { owner: job.ownerId, day },
    };
    const locks = [`user:${job.ownerId}`, job.guildId === null ? 'dm' : `guild:${job.guildId}`];
    const outcome = this.writeNewJob(job, guards, [usage], locks);
    if (outcome.ok) return { admitted: true, row: this.require(job.id) };
    const limit = limits[outcome.step]!;
    return { admitted: false, limit, count: Number(outcome.row?.n), cap: caps[limit]! };
  }

  /** `before`, the job's rows, `after` in one transaction; the job's new input files are removed if it fails. */
  private writeNewJob(job: NewJobRow, before: readonly Step[], after: readonly Step[], locks: readonly string[]) {
    const images = job.images ?? [];
    const options = new Set<string>();
    for (const image of images) {
      if (options.has(image.option)) throw new StoreError(`job ${job.id} has two images for option "${image.option}"`);
      options.add(image.option);
    }
    const saved = images.map(({ option, filename, mime, bytes, saved }) => {
      if (bytes) return { option, filename, mime, ...this.files.save(bytes) };
      if (!this.files.has(saved.sha256)) throw new StoreError(`job ${job.id}: input "${option}" is not saved (${saved.path} is missing)`);
      this.claimed.delete(saved.sha256);
      return { option, filename, mime, sha256: saved.sha256, size: saved.size };
    });
    const now = this.now();
    const steps: Step[] = [
      ...before,
      {
        sql: `INSERT INTO jobs (id, state, prompt_id, owner_id, guild_id, channel_id, message_id, interaction_token,
                token_expires_at, command, params, workflow, backend, parent_id, parent_output, parent_action, upload_limit,
                mode, created_at, updated_at)
              VALUES (@id, 'queued', @promptId, @ownerId, @guildId, @channelId, @messageId, @token, @expiresAt,
                @command, @params, @workflow, @backend, @parentId, @parentOutput, @parentAction, @uploadLimit, @mode, @now, @now)`,
        params: {
          id: job.id,
          promptId: job.promptId,
          ownerId: job.ownerId,
          guildId: job.guildId,
          channelId: job.channelId,
          messageId: job.messageId ?? null,
          token: job.interaction?.token ?? null,
          expiresAt: job.interaction?.expiresAt ?? null,
          command: job.command,
          params: JSON.stringify(job.params),
          workflow: JSON.stringify(job.workflow),
          backend: job.backend ?? null,
          parentId: job.parentId ?? null,
          uploadLimit: job.uploadLimit ?? null,
          parentOutput: job.parentOutput ?? null,
          parentAction: job.parentAction ?? null,
          mode: job.mode ?? 'fast',
          now,
        },
      },
      ...saved.map(({ option, filename, mime, sha256, size }) => ({
        sql: `INSERT INTO job_inputs (job_id, option, filename, mime, sha256, size)
              VALUES (@jobId, @option, @filename, @mime, @sha256, @size)`,
        params: { jobId: job.id, option, filename, mime, sha256, size },
      })),
      ...after,
    ];
    try {
      const outcome = this.commit(steps, locks);
      if (!outcome.ok) this.removeOrphanFiles(saved.map((s) => s.sha256));
      return outcome;
    } catch (error) {
      this.removeOrphanFiles(saved.map((s) => s.sha256));
      if (error instanceof FencedError) throw error;
      throw new StoreError(`could not save job ${job.id}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Change fields of a job (not its state); throws when the job does not exist. */
  updateJob(id: string, patch: JobPatch): void {
    const columns = patchToColumns(id, patch);
    const changed = this.write(id, columns, null);
    if (!changed) throw new StoreError(`no job ${id} in the store`);
  }

  /**
   * Compare-and-set: move the job to `to` only if it is in one of `from`, applying `patch` in the same write.
   * Returns false when the job is elsewhere (another path or process got there first) or does not exist.
   * Sets startedAt on reaching 'running', finishedAt on finishing, and delivery 'pending' on success, unless
   * the patch says otherwise.
   */
  transition(id: string, from: readonly JobState[], to: JobState, patch: JobPatch = {}): boolean {
    if (from.length === 0) throw new StoreError(`transition of job ${id} to ${to} names no states to move from`);
    for (const state of [...from, to]) assertState(state, id);
    const columns: Partial<Record<Column, SqlValue>> = { state: to };
    if (to === 'succeeded') columns.delivery = 'pending';
    // A job that ended without results needs its card's interaction token no more.
    if (to === 'failed' || to === 'cancelled') Object.assign(columns, NO_TOKEN);
    Object.assign(columns, patchToColumns(id, patch));
    const stamps: string[] = [];
    if (to === 'running' && patch.startedAt === undefined) stamps.push('started_at = COALESCE(started_at, @now)');
    if (FINISHED_STATES.includes(to) && patch.finishedAt === undefined) stamps.push('finished_at = @now');
    return this.write(id, columns, from, stamps);
  }

  /**
   * One UPDATE of `columns` (plus `stamps`, SQL that may use @now), only if the job is in `from` when given.
   * A single statement: PostgreSQL re-checks the state of a row another transaction changed meanwhile, so of
   * two processes moving the same job from the same state, exactly one succeeds.
   */
  private write(
    id: string,
    columns: Partial<Record<Column, SqlValue>>,
    from: readonly JobState[] | null,
    stamps: readonly string[] = [],
  ): boolean {
    const names = Object.keys(columns) as Column[];
    const sets = [...names.map((c) => `${c} = @${c}`), ...stamps, 'updated_at = @now'];
    const params: Record<string, SqlValue> = { ...columns, id, now: this.now() };
    let where = 'id = @id';
    if (from) {
      where += ` AND state IN (${from.map((_, i) => `@from${i}`).join(', ')})`;
      from.forEach((state, i) => (params[`from${i}`] = state));
    }
    try {
      return this.change(`UPDATE jobs SET ${sets.join(', ')} WHERE ${where}`, params).rowCount === 1;
    } catch (error) {
      if (error instanceof FencedError) throw error;
      throw new StoreError(`could not update job ${id}: ${(error as Error).message}`, { cause: error });
    }
  }

  get(id: string): JobRow | null {
    const record = this.db.all<JobRecordWithLists>(`${this.selectJobs} WHERE id = @id`, { id })[0];
    return record ? this.toRow(record) : null;
  }

  /** The job whose card, or one of whose result messages, is message `messageId`. */
  byMessage(messageId: string): JobRow | null {
    const record = this.db.all<JobRecordWithLists>(
      `${this.selectJobs} WHERE message_id = @messageId
       OR id IN (SELECT job_id FROM deliveries WHERE message_id = @messageId) LIMIT 1`,
      { messageId },
    )[0];
    return record ? this.toRow(record) : null;
  }

  private require(id: string): JobRow {
    const row = this.get(id);
    if (!row) throw new StoreError(`no job ${id} in the store`);
    return row;
  }

  /**
   * Saves an image input ahead of its job (the job keeps only the path while it waits); a file no job refers to
   * is removed by `dropInput` or the next prune.
   */
  async saveInput(bytes: Buffer): Promise<SavedInput> {
    const sha256 = InputFiles.hash(bytes);
    // Claimed from before the write until a job row refers to it, so a prune meanwhile leaves it (and its temp file).
    this.claimed.add(sha256);
    try {
      await this.files.saveAsync(bytes, sha256);
    } catch (error) {
      this.claimed.delete(sha256);
      throw error;
    }
    return { sha256, size: bytes.length, path: this.files.pathOf(sha256) };
  }

  /** Removes a file saved by saveInput when no job refers to it (its submission was refused after all). */
  dropInput(sha256: string): void {
    this.claimed.delete(sha256);
    this.removeOrphanFiles([sha256]);
  }

  /** Jobs to recover after a restart: queued ones in submission order, then those dispatched or running. */
  unfinished(): JobRow[] {
    return this.rows(
      `${this.selectJobs} WHERE state IN ${LIVE_STATES}
       ORDER BY CASE state WHEN 'queued' THEN 0 ELSE 1 END, seq`,
    );
  }

  /**
   * Records a member's cancel request on an unfinished job that has none yet (compare-and-set: the first request
   * stands, a finished job takes none). Not fenced: asking is any process's, carrying it out the leader's.
   */
  requestCancel(id: string, request: Omit<CancelRequest, 'at'>): CancelRequestResult {
    const { rowCount } = this.db.execute(
      `UPDATE jobs SET cancel_user = @userId, cancel_moderator = @moderator, cancel_at = @now
       WHERE id = @id AND state IN ${LIVE_STATES} AND cancel_user IS NULL`,
      { id, userId: request.userId, moderator: request.isModerator ? 1 : 0, now: this.now() },
    );
    if (rowCount === 1) return { recorded: true };
    const found = this.db.all<{ state: JobState }>('SELECT state FROM jobs WHERE id = @id', { id })[0];
    if (!found) return { recorded: false, reason: 'not-found' };
    return { recorded: false, reason: FINISHED_STATES.includes(found.state) ? 'finished' : 'already-requested' };
  }

  /**
   * Records `request` on every unfinished job of `ownerId` (`/cancel`); a job already asked to stop keeps its
   * first request. Returns the ids of all of them, to wake the leader for each.
   */
  requestCancelsOf(ownerId: string, request: Omit<CancelRequest, 'at'>): string[] {
    const { rows } = this.db.execute(
      `UPDATE jobs SET cancel_user = COALESCE(cancel_user, @userId), cancel_moderator = COALESCE(cancel_moderator, @moderator),
         cancel_at = COALESCE(cancel_at, @now)
       WHERE owner_id = @ownerId AND state IN ${LIVE_STATES} RETURNING id`,
      { ownerId, userId: request.userId, moderator: request.isModerator ? 1 : 0, now: this.now() },
    );
    return rows.map((r) => String(r.id));
  }

  /** Unfinished jobs with a cancel request, oldest request first: what the leader still has to carry out. */
  cancelRequested(): JobRow[] {
    return this.rows(`${this.selectJobs} WHERE state IN ${LIVE_STATES} AND cancel_user IS NOT NULL ORDER BY cancel_at, seq`);
  }

  /** A user's jobs, newest first. */
  listByUser(userId: string, options: { limit?: number; before?: number } = {}): JobRow[] {
    const limit = options.limit ?? 25;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new StoreError(`listByUser limit must be a positive integer, got ${limit}`);
    }
    return this.rows(
      `${this.selectJobs} WHERE owner_id = @userId AND created_at < @before ORDER BY created_at DESC, seq DESC LIMIT @limit`,
      { userId, before: options.before ?? Number.MAX_SAFE_INTEGER, limit },
    );
  }

  lastCreatedAt(userId: string): number | undefined {
    // Checked at every admission: one indexed aggregate, not a whole row with its inputs and deliveries.
    const row = this.db.all<{ n: number | string | null }>('SELECT MAX(created_at) AS n FROM jobs WHERE owner_id = @userId', { userId })[0];
    return row?.n === null || row?.n === undefined ? undefined : Number(row.n);
  }

  /**
   * Record that `files` of a job were posted in `messageId`. A file already recorded makes the whole call fail,
   * so no output is ever delivered twice. `complete` (default true) marks the job's delivery done.
   */
  recordDelivery(id: string, delivery: { messageId: string; files: readonly string[]; complete?: boolean }): void {
    const now = this.now();
    const steps: Step[] = [{ sql: 'SELECT 1 AS found FROM jobs WHERE id = @id', params: { id }, abortIf: 'none' }];
    for (const file of delivery.files) {
      steps.push(
        { sql: 'SELECT message_id, file FROM deliveries WHERE job_id = @id AND file = @file', params: { id, file }, abortIf: 'rows' },
        {
          sql: 'INSERT INTO deliveries (job_id, file, message_id, delivered_at) VALUES (@id, @file, @messageId, @now)',
          params: { id, file, messageId: delivery.messageId, now },
        },
      );
    }
    if (delivery.complete ?? true) {
      // Delivered: the card is final, so its interaction token is dropped with it.
      steps.push({
        sql: "UPDATE jobs SET delivery = 'delivered', interaction_token = NULL, token_expires_at = NULL, updated_at = @now WHERE id = @id",
        params: { id, now },
      });
    }
    const outcome = this.commit(steps);
    if (!outcome.ok) {
      const row = outcome.row as { message_id: string; file: string } | undefined;
      if (outcome.step === 0 || !row) throw new StoreError(`no job ${id} in the store`);
      throw new StoreError(`output ${row.file} of job ${id} was already delivered in message ${row.message_id}`);
    }
  }

  /** Succeeded jobs whose results are not (all) posted yet, oldest first. */
  pendingDeliveries(): JobRow[] {
    return this.rows(`${this.selectJobs} WHERE state = 'succeeded' AND delivery = 'pending' ORDER BY finished_at, seq`);
  }

  /** Drops interaction tokens past their life (kept by a run that ended first); returns how many. */
  forgetExpiredTokens(): number {
    return this.change('UPDATE jobs SET interaction_token = NULL, token_expires_at = NULL WHERE token_expires_at <= @now', { now: this.now() }).rowCount;
  }

  /** Jobs a user created since `sinceMs` (epoch ms), in any state. */
  countJobsSince(userId: string, sinceMs: number): number {
    return this.number('SELECT COUNT(*) AS n FROM jobs WHERE owner_id = @userId AND created_at >= @sinceMs', { userId, sinceMs });
  }

  /** Add to a user's usage of the current UTC day; returns the new total. */
  addUsage(userId: string, amount = 1): number {
    if (!Number.isInteger(amount) || amount < 1) {
      throw new StoreError(`usage must grow by a positive integer, got ${amount}`);
    }
    const { rows } = this.change(
      `INSERT INTO daily_usage (user_id, day, count) VALUES (@userId, @day, @amount)
       ON CONFLICT (user_id, day) DO UPDATE SET count = daily_usage.count + excluded.count RETURNING count AS n`,
      { userId, day: utcDay(this.now()), amount },
    );
    return Number(rows[0]?.n);
  }

  /** A user's usage on a UTC day ("YYYY-MM-DD"; default today). */
  usage(userId: string, day: string = utcDay(this.now())): number {
    return this.number('SELECT count AS n FROM daily_usage WHERE user_id = @userId AND day = @day', { userId, day });
  }

  /** GPU ms charged to a user's jobs (of one mode, or all) that finished at or after `sinceMs` (epoch ms). */
  gpuMsSince(userId: string, sinceMs: number, mode?: JobMode): number {
    const all = 'SELECT COALESCE(SUM(gpu_ms), 0) AS n FROM jobs WHERE owner_id = @userId AND finished_at >= @sinceMs AND gpu_ms IS NOT NULL';
    return mode === undefined ? this.number(all, { userId, sinceMs }) : this.number(`${all} AND mode = @mode`, { userId, sinceMs, mode });
  }

  /** Every GPU charge since `sinceMs`, oldest first: what the fair share's decayed usage is rebuilt from at start-up. */
  gpuChargesSince(sinceMs: number): GpuCharge[] {
    return this.db.all<GpuCharge>(
      `SELECT owner_id AS "userId", guild_id AS "guildId", command, backend, finished_at AS "at", gpu_ms AS "gpuMs" FROM jobs
       WHERE gpu_ms IS NOT NULL AND finished_at >= @sinceMs ORDER BY finished_at, seq`,
      { sinceMs },
    );
  }

  /** The heaviest users by GPU time since `sinceMs`, in one server (`guildId`; null: direct messages) or in all. */
  topGpuUsers(options: { sinceMs: number; guildId?: string | null; limit: number }): GpuUserTotal[] {
    const byGuild = options.guildId !== undefined;
    const where = byGuild ? (options.guildId === null ? 'AND guild_id IS NULL' : 'AND guild_id = @guild') : '';
    return this.db.all<GpuUserTotal>(
      `SELECT owner_id AS "userId", guild_id AS "guildId", SUM(gpu_ms) AS "gpuMs", COUNT(*) AS "jobs" FROM jobs
       WHERE gpu_ms IS NOT NULL AND finished_at >= @since ${where}
       GROUP BY owner_id, guild_id ORDER BY "gpuMs" DESC, "userId" LIMIT @limit`,
      { since: options.sinceMs, limit: options.limit, ...(byGuild && options.guildId !== null ? { guild: options.guildId } : {}) },
    );
  }

  /**
   * A guild's settings, read for every job. The parsed object is kept with the text it came from and handed out
   * again while the stored text is unchanged (another process may write it): a job does not parse a long blocked
   * list again, and the checks find that list's compiled form by identity. Callers must not change it.
   */
  guildSettings(guildId: string): GuildSettings {
    return this.readGuildSettings(guildId).settings;
  }

  private readGuildSettings(guildId: string): StoredGuildSettings {
    const row = this.db.all<{ settings: string }>('SELECT settings FROM guild_settings WHERE guild_id = @guildId', { guildId })[0];
    if (!row) return UNSET_GUILD_SETTINGS;
    return this.parseGuildSettings(guildId, row.settings);
  }

  /** A guild's stored settings text, parsed (or handed out again while the text is unchanged). */
  private parseGuildSettings(guildId: string, stored: string): { settings: GuildSettings; stored: string } {
    const known = this.parsedSettings.get(guildId);
    if (known?.stored === stored) return known;
    const what = `stored settings of guild ${guildId}`;
    const parsed = { settings: parseSettings(guildSettingsSchema, parseJson(stored, what), `invalid ${what}`), stored };
    this.parsedSettings.set(guildId, parsed);
    return parsed;
  }

  /** Guilds that have stored settings. */
  guildIds(): string[] {
    return this.db.all<{ guild_id: string }>('SELECT guild_id FROM guild_settings ORDER BY guild_id').map((r) => r.guild_id);
  }

  /**
   * Replace the given top-level settings of a guild; returns the settings now in force. Compare-and-set on the
   * stored text: a change another process made meanwhile is merged into, never overwritten.
   */
  setGuildSettings(guildId: string, patch: GuildSettingsPatch): GuildSettings {
    for (let attempt = 1; ; attempt++) {
      const current = this.readGuildSettings(guildId);
      const settings = parseSettings(guildSettingsSchema, { ...current.settings, ...patch }, `invalid settings for guild ${guildId}`);
      const text = JSON.stringify(settings);
      const unchanged: Step =
        current.stored === null
          ? { sql: 'SELECT 1 AS found FROM guild_settings WHERE guild_id = @guildId', params: { guildId }, abortIf: 'rows' }
          : {
              sql: 'SELECT 1 AS found FROM guild_settings WHERE guild_id = @guildId AND settings <> @stored',
              params: { guildId, stored: current.stored },
              abortIf: 'rows',
            };
      const outcome = this.commit([
        unchanged,
        {
          sql: `INSERT INTO guild_settings (guild_id, settings, updated_at) VALUES (@guildId, @settings, @now)
                ON CONFLICT (guild_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
          params: { guildId, settings: text, now: this.now() },
        },
      ]);
      if (outcome.ok) {
        this.parsedSettings.set(guildId, { settings, stored: text });
        return settings;
      }
      if (attempt === SETTINGS_ATTEMPTS) {
        throw new StoreError(`the settings of guild ${guildId} kept changing under this change; try again`);
      }
    }
  }

  /** A server's own commands (`/comfy command add`), or every server's when no guild is given. */
  guildCommands(guildId?: string): GuildCommandRow[] {
    const rows =
      guildId === undefined
        ? this.db.all<GuildCommandRecord>('SELECT * FROM guild_commands ORDER BY guild_id, name')
        : this.db.all<GuildCommandRecord>('SELECT * FROM guild_commands WHERE guild_id = @guildId ORDER BY name', { guildId });
    return rows.map((r) => ({ guildId: r.guild_id, name: r.name, commandFile: r.command_file, template: r.template, createdBy: r.created_by, createdAt: r.created_at }));
  }

  /** Saves a new server command; false when the server already has one of that name (nothing changed). */
  insertGuildCommand(row: Omit<GuildCommandRow, 'createdAt'>): boolean {
    const { rowCount } = this.change(
      `INSERT INTO guild_commands (guild_id, name, command_file, template, created_by, created_at)
       VALUES (@guildId, @name, @commandFile, @template, @createdBy, @now)
       ON CONFLICT (guild_id, name) DO NOTHING`,
      { ...row, now: this.now() },
    );
    return rowCount === 1;
  }

  /** Removes a server command; false when there was none. */
  deleteGuildCommand(guildId: string, name: string): boolean {
    return this.change('DELETE FROM guild_commands WHERE guild_id = @guildId AND name = @name', { guildId, name }).rowCount === 1;
  }

  userDefaults(userId: string, command: string): UserDefaults {
    const row = this.db.all<{ options: string }>('SELECT options FROM user_defaults WHERE user_id = @userId AND command = @command', {
      userId,
      command,
    })[0];
    if (!row) return {};
    const what = `stored /${command} defaults of user ${userId}`;
    return parseSettings(userDefaultsSchema, parseJson(row.options, what), `invalid ${what}`);
  }

  /** Save a user's defaults for a command (replacing earlier ones); null or {} clears them. */
  setUserDefaults(userId: string, command: string, values: UserDefaults | null): void {
    if (values === null || Object.keys(values).length === 0) {
      this.change('DELETE FROM user_defaults WHERE user_id = @userId AND command = @command', { userId, command });
      return;
    }
    const options = parseSettings(userDefaultsSchema, values, `invalid /${command} defaults for user ${userId}`);
    this.change(
      `INSERT INTO user_defaults (user_id, command, options, updated_at) VALUES (@userId, @command, @options, @now)
       ON CONFLICT (user_id, command) DO UPDATE SET options = excluded.options, updated_at = excluded.updated_at`,
      { userId, command, options: JSON.stringify(options), now: this.now() },
    );
  }

  userMode(userId: string): JobMode {
    const row = this.db.all<{ mode: JobMode }>('SELECT mode FROM user_modes WHERE user_id = @userId', { userId })[0];
    return row?.mode ?? 'fast';
  }

  setUserMode(userId: string, mode: JobMode): void {
    this.change(
      `INSERT INTO user_modes (user_id, mode, updated_at) VALUES (@userId, @mode, @now)
       ON CONFLICT (user_id) DO UPDATE SET mode = excluded.mode, updated_at = excluded.updated_at`,
      { userId, mode, now: this.now() },
    );
  }

  /**
   * Delete finished jobs older than `olderThanDays` (by finish time), their delivery records, image files no
   * other job uses, and usage counters of days before the cutoff. Results still pending delivery are kept.
   * Returns the number of jobs deleted.
   */
  prune(olderThanDays: number): number {
    if (!(olderThanDays > 0)) throw new StoreError(`prune needs a positive number of days, got ${olderThanDays}`);
    const cutoff = this.now() - olderThanDays * DAY_MS;
    const outcome = this.commit([
      {
        sql: `DELETE FROM jobs WHERE state IN ('succeeded', 'failed', 'cancelled') AND delivery != 'pending'
              AND finished_at < @cutoff`,
        params: { cutoff },
      },
      { sql: 'DELETE FROM daily_usage WHERE day < @day', params: { day: utcDay(cutoff) } },
    ]);
    if (!outcome.ok) throw new StoreError('prune was aborted');
    this.files.removeUnreferenced((sha) => this.claimed.has(sha) || this.isReferenced(sha));
    return outcome.results[0]!.rowCount;
  }

  /**
   * Takes the leader lease for `ttlMs` if nobody holds it (never taken, expired or released); each take gets
   * the next fencing number, and from then on every write of this store carries it and is refused
   * (FencedError) once a newer lease exists. Null while another holder's lease runs.
   */
  acquireLease(holder: string, ttlMs: number): Lease | null {
    if (!(ttlMs > 0)) throw new StoreError(`a lease needs a positive duration, got ${ttlMs} ms`);
    const now = this.now();
    const { rows } = this.db.execute(
      `INSERT INTO leader_lease (name, holder, fence, acquired_at, expires_at) VALUES ('leader', @holder, 1, @now, @expires)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, fence = leader_lease.fence + 1,
         acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
       WHERE leader_lease.expires_at <= @now
       RETURNING fence`,
      { holder, now, expires: now + ttlMs },
    );
    if (rows.length === 0) return null;
    this.fence = Number(rows[0]!.fence);
    return { holder, fence: this.fence, acquiredAt: now, expiresAt: now + ttlMs };
  }

  /**
   * Extends this store's lease by `ttlMs` from now; false when another process has taken it since (even one
   * that lapsed unnoticed stays ours while nobody took it: its fencing number is still the newest).
   */
  renewLease(ttlMs: number): boolean {
    if (this.fence === null) throw new StoreError('renewLease: this store holds no lease');
    return (
      this.db.execute("UPDATE leader_lease SET expires_at = @expires WHERE name = 'leader' AND fence = @fence", {
        expires: this.now() + ttlMs,
        fence: this.fence,
      }).rowCount === 1
    );
  }

  /** Gives the lease up at once (a clean stop), so a standby need not wait for it to expire. */
  releaseLease(): void {
    if (this.fence === null) return;
    this.db.execute("UPDATE leader_lease SET expires_at = @now WHERE name = 'leader' AND fence = @fence", { now: this.now(), fence: this.fence });
  }

  /** The current lease, whoever holds it; null if none was ever taken. */
  currentLease(): Lease | null {
    const row = this.db.all<{ holder: string; fence: number; acquired_at: number; expires_at: number }>(
      "SELECT holder, fence, acquired_at, expires_at FROM leader_lease WHERE name = 'leader'",
    )[0];
    return row ? { holder: row.holder, fence: Number(row.fence), acquiredAt: Number(row.acquired_at), expiresAt: Number(row.expires_at) } : null;
  }

  /**
   * Records this process's heartbeat (and role) in the processes table; rows silent for `forgetAfterMs` are
   * dropped, so the list shows the processes alive now. Not fenced: a standby writes it too.
   */
  heartbeat(process: ProcessRow, forgetAfterMs: number): void {
    this.db.execute(
      `INSERT INTO processes (id, host, pid, shards, role, started_at, heartbeat_at)
       VALUES (@id, @host, @pid, @shards, @role, @startedAt, @heartbeatAt)
       ON CONFLICT (id) DO UPDATE SET role = excluded.role, heartbeat_at = excluded.heartbeat_at`,
      { ...process },
    );
    this.db.execute('DELETE FROM processes WHERE heartbeat_at < @before', { before: process.heartbeatAt - forgetAfterMs });
  }

  /** The processes that heartbeat lately, the oldest first. */
  processes(): ProcessRow[] {
    return this.db
      .all<{ id: string; host: string; pid: number; shards: string; role: 'leader' | 'standby'; started_at: number; heartbeat_at: number }>(
        'SELECT id, host, pid, shards, role, started_at, heartbeat_at FROM processes ORDER BY started_at, id',
      )
      .map((r) => ({ id: r.id, host: r.host, pid: Number(r.pid), shards: r.shards, role: r.role, startedAt: Number(r.started_at), heartbeatAt: Number(r.heartbeat_at) }));
  }

  /** Not fenced: a standby claims (it holds no lease); the claims of leases older than this one are dropped. */
  claimLeaderLoss(fence: number, processId: string): boolean {
    const claimed =
      this.db.execute('INSERT INTO leader_loss_claims (fence, claimed_by, claimed_at) VALUES (@fence, @processId, @now) ON CONFLICT (fence) DO NOTHING', {
        fence,
        processId,
        now: this.now(),
      }).rowCount === 1;
    if (claimed) this.db.execute('DELETE FROM leader_loss_claims WHERE fence < @fence', { fence });
    return claimed;
  }

  /**
   * Every hold in force, in one query (processes read them before each admission): the operators' (`holds`) and
   * the servers' (their settings' `queue`, found by a text match on the JSON this store writes compactly, then
   * parsed). A server whose settings cannot be read is listed apart, for the caller to report; it holds nothing.
   */
  holds(): StoredHolds {
    const rows = this.db.all<{ kind: 'operator' | 'guild'; key: string; value: string }>(
      `SELECT 'operator' AS "kind", scope AS "key", hold AS "value" FROM holds
       UNION ALL
       SELECT 'guild' AS "kind", guild_id AS "key", settings AS "value" FROM guild_settings
         WHERE settings LIKE '%"queue":"paused"%' OR settings LIKE '%"queue":"draining"%'
       ORDER BY "kind", "key"`,
    );
    const holds: StoredHolds = { bot: null, backends: new Map(), guilds: new Map(), unreadable: [] };
    for (const row of rows) {
      if (row.kind === 'operator') {
        if (row.key === 'bot') holds.bot = row.value as Hold;
        else if (row.key.startsWith('backend:')) holds.backends.set(row.key.slice('backend:'.length), row.value as Hold);
        continue;
      }
      try {
        const { queue } = this.parseGuildSettings(row.key, row.value).settings;
        if (queue !== 'open') holds.guilds.set(row.key, queue);
      } catch (error) {
        if (!(error instanceof StoreError)) throw error;
        holds.unreadable.push({ guildId: row.key, error });
      }
    }
    return holds;
  }

  /** Sets (or, with null, lifts) an operators' hold; one row per scope, so holds set at once never overwrite each other. */
  setHold(scope: HoldScope, hold: Hold | null): void {
    const key = scope.kind === 'bot' ? 'bot' : `backend:${scope.name}`;
    if (hold === null) {
      this.change('DELETE FROM holds WHERE scope = @key', { key });
      return;
    }
    this.change(
      `INSERT INTO holds (scope, hold, updated_at) VALUES (@key, @hold, @now)
       ON CONFLICT (scope) DO UPDATE SET hold = excluded.hold, updated_at = excluded.updated_at`,
      { key, hold, now: this.now() },
    );
  }

  /** The leader's view for the standbys (see leader-view.ts); only the lease holder may write it, fenced like its other writes. */
  publishView(view: LeaderView): void {
    if (this.fence === null) throw new StoreError('publishView: only the leader publishes its view, and this store holds no lease');
    this.change(
      `INSERT INTO leader_view (name, fence, view, published_at) VALUES ('leader', @fence, @view, @now)
       ON CONFLICT (name) DO UPDATE SET fence = excluded.fence, view = excluded.view, published_at = excluded.published_at`,
      { fence: this.fence, view: JSON.stringify(view), now: this.now() },
    );
  }

  /** The view the leader published last; null before any leader published one. */
  publishedView(): PublishedView | null {
    const row = this.db.all<{ fence: number; view: string; published_at: number }>(
      "SELECT fence, view, published_at FROM leader_view WHERE name = 'leader'",
    )[0];
    if (!row) return null;
    const view = parseSettings(leaderViewSchema, parseJson(row.view, "the leader's published view"), "invalid leader's published view");
    return { view, fence: Number(row.fence), publishedAt: Number(row.published_at) };
  }

  /** Wakes the leader (PostgreSQL NOTIFY on `comfycord_jobs`); with SQLite there is only one process, so nothing. */
  wake(payload: string): void {
    if (this.db.dialect !== 'postgres') return;
    this.db.execute(`SELECT pg_notify('${WAKE_CHANNEL}', @payload)`, { payload });
  }

  close(): void {
    this.db.close();
  }

  /**
   * A write of one statement: on its own, or, once this store has taken the lease, in a transaction behind the
   * fencing guard (see commit).
   */
  private change(sql: string, params: Record<string, unknown>): StepResult {
    if (this.fence === null) return this.db.execute(sql, params);
    const outcome = this.commit([{ sql, params }]);
    if (!outcome.ok) throw new StoreError(`a write was aborted: ${sql.slice(0, 60)}`);
    return outcome.results[0]!;
  }

  /**
   * A transaction of writes. Once this store has taken the lease it starts by reading the lease row (FOR SHARE
   * on PostgreSQL, so a takeover waits for it or it sees the takeover) and is refused if the fencing number there
   * is newer than ours.
   */
  private commit(steps: readonly Step[], locks: readonly string[] = []): Outcome {
    if (this.fence === null) return this.db.transaction(steps, locks);
    const share = this.db.dialect === 'postgres' ? ' FOR SHARE' : '';
    const guard: Step = {
      sql: `SELECT fence FROM leader_lease WHERE name = 'leader' AND fence > @fence${share}`,
      params: { fence: this.fence },
      abortIf: 'rows',
    };
    const outcome = this.db.transaction([guard, ...steps], locks);
    if (outcome.ok) return { ok: true, results: outcome.results.slice(1) };
    if (outcome.step === 0) throw new FencedError(this.fence, Number(outcome.row?.fence));
    return { ok: false, step: outcome.step - 1, row: outcome.row };
  }

  private number(sql: string, params: Record<string, unknown>): number {
    const row = this.db.all<{ n: number | string }>(sql, params)[0];
    return row ? Number(row.n) : 0;
  }

  private isReferenced(sha256: string): boolean {
    return this.db.all('SELECT 1 AS found FROM job_inputs WHERE sha256 = @sha256 LIMIT 1', { sha256 }).length > 0;
  }

  private removeOrphanFiles(shas: readonly string[]): void {
    const orphans = new Set(shas.filter((sha) => !this.isReferenced(sha)));
    if (orphans.size > 0) this.files.removeUnreferenced((sha) => !orphans.has(sha));
  }

  private rows(sql: string, params: Record<string, unknown> = {}): JobRow[] {
    return this.db.all<JobRecordWithLists>(sql, params).map((r) => this.toRow(r));
  }

  private toRow(r: JobRecordWithLists): JobRow {
    const images = JSON.parse(r.images_json) as Omit<StoredImage, 'path'>[];
    const deliveryRows = JSON.parse(r.deliveries_json) as { message_id: string; file: string; delivered_at: number }[];
    const deliveries: DeliveryRecord[] = [];
    for (const d of deliveryRows) {
      const last = deliveries.at(-1);
      if (last && last.messageId === d.message_id) last.files.push(d.file);
      else deliveries.push({ messageId: d.message_id, files: [d.file], at: d.delivered_at });
    }
    return {
      id: r.id,
      state: r.state,
      promptId: r.prompt_id,
      ownerId: r.owner_id,
      guildId: r.guild_id,
      channelId: r.channel_id,
      messageId: r.message_id,
      interaction:
        r.interaction_token !== null && r.token_expires_at !== null
          ? { token: r.interaction_token, expiresAt: r.token_expires_at }
          : null,
      command: r.command,
      params: JSON.parse(r.params) as JobRow['params'],
      workflow: JSON.parse(r.workflow) as JobRow['workflow'],
      images: images.map((image) => ({ ...image, path: this.files.pathOf(image.sha256) })),
      backend: r.backend,
      attempts: r.attempts,
      error: r.error,
      outputs: r.outputs === null ? null : (JSON.parse(r.outputs) as JobRow['outputs']),
      delivery: r.delivery,
      deliveries,
      uploadLimit: r.upload_limit,
      parentId: r.parent_id,
      parentOutput: r.parent_output,
      parentAction: r.parent_action,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      gpuMs: r.gpu_ms,
      mode: r.mode,
      cancelRequest:
        r.cancel_user !== null && r.cancel_moderator !== null && r.cancel_at !== null
          ? { userId: r.cancel_user, isModerator: Number(r.cancel_moderator) === 1, at: Number(r.cancel_at) }
          : null,
      waitSince: r.wait_since,
    };
  }
}

interface GuildCommandRecord extends Row {
  guild_id: string;
  name: string;
  command_file: string;
  template: string;
  created_by: string;
  created_at: number;
}
