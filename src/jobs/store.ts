// The durable job store (SQLite, WAL): every job is written before it is submitted and after every change, so
// jobs survive restarts and result buttons work on any past job. Plain rows in and out.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import type { Logger } from '../config/logger.js';
import { silentLogger } from '../config/logger.js';
import { migrate, MIGRATIONS, type Migration } from './migrations.js';
import { StoreError } from './store-errors.js';
import { InputFiles } from './store-files.js';
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
  type DeliveryRecord,
  type GuildCommandRow,
  type GpuCharge,
  type GpuUserTotal,
  type JobPatch,
  type JobRow,
  type JobState,
  type LoadedImage,
  type NewJobRow,
  type SavedInput,
  type StoredImage,
} from './store-types.js';

export { StoreError } from './store-errors.js';
export type { Migration } from './migrations.js';
export type { GuildSettings, GuildSettingsPatch, UserDefaults } from './store-settings.js';
export * from './store-types.js';

const DATABASE_FILE = 'comfycord.db';
const DAY_MS = 86_400_000;

export interface JobStoreOptions {
  dataDir: string;
  /** Epoch milliseconds; injectable for tests. */
  clock?: { now(): number };
  logger?: Logger;
  /** The schema history; only tests pass their own. */
  migrations?: readonly Migration[];
}

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

export class JobStore {
  private readonly db: Db;
  private readonly files: InputFiles;
  private readonly now: () => number;
  private readonly statements = new Map<string, Statement>();
  private readonly parsedSettings = new Map<string, { text: string; settings: GuildSettings }>();
  /** Inputs saved by saveInput whose job row is not written yet. */
  private readonly claimed = new Set<string>();

  constructor(db: Db, files: InputFiles, now: () => number) {
    this.db = db;
    this.files = files;
    this.now = now;
  }

  /** Write a new 'queued' job and its image inputs in one transaction. */
  insertJob(job: NewJobRow): JobRow {
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
    try {
      this.db.transaction(() => {
        this
          .sql(
            `INSERT INTO jobs (id, state, prompt_id, owner_id, guild_id, channel_id, message_id, interaction_token,
               token_expires_at, command, params, workflow, backend, parent_id, parent_output, parent_action, upload_limit,
               created_at, updated_at)
             VALUES (@id, 'queued', @promptId, @ownerId, @guildId, @channelId, @messageId, @token, @expiresAt,
               @command, @params, @workflow, @backend, @parentId, @parentOutput, @parentAction, @uploadLimit, @now, @now)`,
          )
          .run({
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
            now,
          });
        const insertImage = this.sql(
          `INSERT INTO job_inputs (job_id, option, filename, mime, sha256, size)
           VALUES (@jobId, @option, @filename, @mime, @sha256, @size)`,
        );
        for (const image of saved) {
          const { option, filename, mime, sha256, size } = image;
          insertImage.run({ jobId: job.id, option, filename, mime, sha256, size });
        }
      })();
    } catch (error) {
      this.removeOrphanFiles(saved.map((s) => s.sha256));
      throw new StoreError(`could not save job ${job.id}: ${(error as Error).message}`, { cause: error });
    }
    return this.require(job.id);
  }

  /** Change fields of a job (not its state); throws when the job does not exist. */
  updateJob(id: string, patch: JobPatch): JobRow {
    const columns = patchToColumns(id, patch);
    const changed = this.write(id, columns, null);
    if (!changed) throw new StoreError(`no job ${id} in the store`);
    return this.require(id);
  }

  /**
   * Compare-and-set: move the job to `to` only if it is in one of `from`, applying `patch` in the same write.
   * Returns false when the job is elsewhere (another path got there first) or does not exist.
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

  /** One UPDATE of `columns` (plus `stamps`, SQL that may use @now), only if the job is in `from` when given. */
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
      return this.sql(`UPDATE jobs SET ${sets.join(', ')} WHERE ${where}`).run(params).changes === 1;
    } catch (error) {
      throw new StoreError(`could not update job ${id}: ${(error as Error).message}`, { cause: error });
    }
  }

  get(id: string): JobRow | null {
    const record = this.sql('SELECT * FROM jobs WHERE id = ?').get(id) as JobRecord | undefined;
    return record ? this.toRow(record) : null;
  }

  /** The job whose card, or one of whose result messages, is message `messageId`. */
  byMessage(messageId: string): JobRow | null {
    const record = this.sql(
      `SELECT * FROM jobs WHERE message_id = @messageId
       UNION SELECT jobs.* FROM jobs JOIN deliveries ON deliveries.job_id = jobs.id WHERE deliveries.message_id = @messageId
       LIMIT 1`,
    ).get({ messageId }) as JobRecord | undefined;
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

  /** The bytes of a job's image inputs, to upload them again (retry, reroll, edit). */
  loadImages(id: string): LoadedImage[] {
    return this.require(id).images.map((image) => ({
      option: image.option,
      filename: image.filename,
      mime: image.mime,
      bytes: this.files.read(image.sha256, `input image "${image.option}" of job ${id}`),
    }));
  }

  /** Jobs to recover after a restart: queued ones in submission order, then those dispatched or running. */
  unfinished(): JobRow[] {
    return this.rows(
      `SELECT * FROM jobs WHERE state IN ('queued', 'dispatched', 'running')
       ORDER BY CASE state WHEN 'queued' THEN 0 ELSE 1 END, seq`,
    );
  }

  /** A user's jobs, newest first. */
  listByUser(userId: string, options: { limit?: number; before?: number } = {}): JobRow[] {
    const limit = options.limit ?? 25;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new StoreError(`listByUser limit must be a positive integer, got ${limit}`);
    }
    return this.rows(
      'SELECT * FROM jobs WHERE owner_id = ? AND created_at < ? ORDER BY created_at DESC, seq DESC LIMIT ?',
      userId,
      options.before ?? Number.MAX_SAFE_INTEGER,
      limit,
    );
  }

  /**
   * Record that `files` of a job were posted in `messageId`. A file already recorded makes the whole call fail,
   * so no output is ever delivered twice. `complete` (default true) marks the job's delivery done.
   */
  recordDelivery(id: string, delivery: { messageId: string; files: readonly string[]; complete?: boolean }): JobRow {
    const now = this.now();
    this.db.transaction(() => {
      this.require(id);
      const already = this.sql('SELECT message_id FROM deliveries WHERE job_id = ? AND file = ?');
      const insert = this.sql('INSERT INTO deliveries (job_id, file, message_id, delivered_at) VALUES (?, ?, ?, ?)');
      for (const file of delivery.files) {
        const previous = already.get(id, file) as { message_id: string } | undefined;
        if (previous) {
          throw new StoreError(`output ${file} of job ${id} was already delivered in message ${previous.message_id}`);
        }
        insert.run(id, file, delivery.messageId, now);
      }
      if (delivery.complete ?? true) {
        // Delivered: the card is final, so its interaction token is dropped with it.
        this.sql(
          "UPDATE jobs SET delivery = 'delivered', interaction_token = NULL, token_expires_at = NULL, updated_at = ? WHERE id = ?",
        ).run(now, id);
      }
    })();
    return this.require(id);
  }

  /** Succeeded jobs whose results are not (all) posted yet, oldest first. */
  pendingDeliveries(): JobRow[] {
    return this.rows("SELECT * FROM jobs WHERE state = 'succeeded' AND delivery = 'pending' ORDER BY finished_at, seq");
  }

  /** Drops interaction tokens past their life (kept by a run that ended first); returns how many. */
  forgetExpiredTokens(): number {
    return this.sql('UPDATE jobs SET interaction_token = NULL, token_expires_at = NULL WHERE token_expires_at <= ?').run(this.now()).changes;
  }

  /** Jobs a user created since `sinceMs` (epoch ms), in any state. */
  countJobsSince(userId: string, sinceMs: number): number {
    const count = this.sql('SELECT COUNT(*) AS n FROM jobs WHERE owner_id = ? AND created_at >= ?');
    return (count.get(userId, sinceMs) as { n: number }).n;
  }

  /** Add to a user's usage of the current UTC day; returns the new total. */
  addUsage(userId: string, amount = 1): number {
    if (!Number.isInteger(amount) || amount < 1) {
      throw new StoreError(`usage must grow by a positive integer, got ${amount}`);
    }
    const row = this
      .sql(
        `INSERT INTO daily_usage (user_id, day, count) VALUES (?, ?, ?)
         ON CONFLICT (user_id, day) DO UPDATE SET count = count + excluded.count RETURNING count`,
      )
      .get(userId, utcDay(this.now()), amount) as { count: number };
    return row.count;
  }

  /** A user's usage on a UTC day ("YYYY-MM-DD"; default today). */
  usage(userId: string, day: string = utcDay(this.now())): number {
    const row = this.sql('SELECT count FROM daily_usage WHERE user_id = ? AND day = ?').get(userId, day) as
      | { count: number }
      | undefined;
    return row?.count ?? 0;
  }

  /** GPU ms charged to a user's jobs that finished at or after `sinceMs` (epoch ms). */
  gpuMsSince(userId: string, sinceMs: number): number {
    const row = this.sql('SELECT COALESCE(SUM(gpu_ms), 0) AS ms FROM jobs WHERE owner_id = ? AND finished_at >= ? AND gpu_ms IS NOT NULL');
    return (row.get(userId, sinceMs) as { ms: number }).ms;
  }

  /** Every GPU charge since `sinceMs`, oldest first: what the fair share's decayed usage is rebuilt from at start-up. */
  gpuChargesSince(sinceMs: number): GpuCharge[] {
    const rows = this.sql(
      `SELECT owner_id AS userId, guild_id AS guildId, command, backend, finished_at AS at, gpu_ms AS gpuMs FROM jobs
       WHERE gpu_ms IS NOT NULL AND finished_at >= ? ORDER BY finished_at, seq`,
    ).all(sinceMs) as GpuCharge[];
    return rows;
  }

  /** The heaviest users by GPU time since `sinceMs`, in one server (`guildId`; null: direct messages) or in all. */
  topGpuUsers(options: { sinceMs: number; guildId?: string | null; limit: number }): GpuUserTotal[] {
    const byGuild = options.guildId !== undefined;
    const where = byGuild ? (options.guildId === null ? 'AND guild_id IS NULL' : 'AND guild_id = @guild') : '';
    return this.sql(
      `SELECT owner_id AS userId, guild_id AS guildId, SUM(gpu_ms) AS gpuMs, COUNT(*) AS jobs FROM jobs
       WHERE gpu_ms IS NOT NULL AND finished_at >= @since ${where}
       GROUP BY owner_id, guild_id ORDER BY gpuMs DESC, userId LIMIT @limit`,
    ).all({ since: options.sinceMs, limit: options.limit, ...(byGuild && options.guildId !== null ? { guild: options.guildId } : {}) }) as GpuUserTotal[];
  }

  /**
   * A guild's settings, read for every job. The parsed object is kept with the text it came from and handed out
   * again while the stored text is unchanged (another process may write it): a job does not parse a long blocked
   * list again, and the checks find that list's compiled form by identity. Callers must not change it.
   */
  guildSettings(guildId: string): GuildSettings {
    const row = this.sql('SELECT settings FROM guild_settings WHERE guild_id = ?').get(guildId) as
      | { settings: string }
      | undefined;
    const what = `stored settings of guild ${guildId}`;
    if (!row) return parseSettings(guildSettingsSchema, {}, `invalid ${what}`);
    const known = this.parsedSettings.get(guildId);
    if (known?.text === row.settings) return known.settings;
    const settings = parseSettings(guildSettingsSchema, parseJson(row.settings, what), `invalid ${what}`);
    this.parsedSettings.set(guildId, { text: row.settings, settings });
    return settings;
  }

  /** Guilds that have stored settings. */
  guildIds(): string[] {
    return (this.sql('SELECT guild_id FROM guild_settings ORDER BY guild_id').all() as { guild_id: string }[]).map((r) => r.guild_id);
  }

  /** Replace the given top-level settings of a guild; returns the settings now in force. */
  setGuildSettings(guildId: string, patch: GuildSettingsPatch): GuildSettings {
    return this.db.transaction(() => {
      const merged = { ...this.guildSettings(guildId), ...patch };
      const settings = parseSettings(guildSettingsSchema, merged, `invalid settings for guild ${guildId}`);
      const text = JSON.stringify(settings);
      this.sql(
        `INSERT INTO guild_settings (guild_id, settings, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (guild_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
      ).run(guildId, text, this.now());
      this.parsedSettings.set(guildId, { text, settings });
      return settings;
    })();
  }

  /** A server's own commands (`/comfy command add`), or every server's when no guild is given. */
  guildCommands(guildId?: string): GuildCommandRow[] {
    const rows = (
      guildId === undefined
        ? this.sql('SELECT * FROM guild_commands ORDER BY guild_id, name').all()
        : this.sql('SELECT * FROM guild_commands WHERE guild_id = ? ORDER BY name').all(guildId)
    ) as { guild_id: string; name: string; command_file: string; template: string; created_by: string; created_at: number }[];
    return rows.map((r) => ({ guildId: r.guild_id, name: r.name, commandFile: r.command_file, template: r.template, createdBy: r.created_by, createdAt: r.created_at }));
  }

  /** Saves a new server command; false when the server already has one of that name (nothing changed). */
  insertGuildCommand(row: Omit<GuildCommandRow, 'createdAt'>): boolean {
    const { changes } = this.sql(
      `INSERT INTO guild_commands (guild_id, name, command_file, template, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (guild_id, name) DO NOTHING`,
    ).run(row.guildId, row.name, row.commandFile, row.template, row.createdBy, this.now());
    return changes === 1;
  }

  /** Removes a server command; false when there was none. */
  deleteGuildCommand(guildId: string, name: string): boolean {
    return this.sql('DELETE FROM guild_commands WHERE guild_id = ? AND name = ?').run(guildId, name).changes === 1;
  }

  userDefaults(userId: string, command: string): UserDefaults {
    const row = this.sql('SELECT options FROM user_defaults WHERE user_id = ? AND command = ?').get(userId, command) as
      | { options: string }
      | undefined;
    if (!row) return {};
    const what = `stored /${command} defaults of user ${userId}`;
    return parseSettings(userDefaultsSchema, parseJson(row.options, what), `invalid ${what}`);
  }

  /** Save a user's defaults for a command (replacing earlier ones); null or {} clears them. */
  setUserDefaults(userId: string, command: string, values: UserDefaults | null): void {
    if (values === null || Object.keys(values).length === 0) {
      this.sql('DELETE FROM user_defaults WHERE user_id = ? AND command = ?').run(userId, command);
      return;
    }
    const options = parseSettings(userDefaultsSchema, values, `invalid /${command} defaults for user ${userId}`);
    this.sql(
      `INSERT INTO user_defaults (user_id, command, options, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, command) DO UPDATE SET options = excluded.options, updated_at = excluded.updated_at`,
    ).run(userId, command, JSON.stringify(options), this.now());
  }

  /**
   * Delete finished jobs older than `olderThanDays` (by finish time), their delivery records, image files no
   * other job uses, and usage counters of days before the cutoff. Results still pending delivery are kept.
   * Returns the number of jobs deleted.
   */
  prune(olderThanDays: number): number {
    if (!(olderThanDays > 0)) throw new StoreError(`prune needs a positive number of days, got ${olderThanDays}`);
    const cutoff = this.now() - olderThanDays * DAY_MS;
    const deleted = this.db.transaction(() => {
      const { changes } = this
        .sql(
          `DELETE FROM jobs WHERE state IN ('succeeded', 'failed', 'cancelled') AND delivery != 'pending'
           AND finished_at < ?`,
        )
        .run(cutoff);
      this.sql('DELETE FROM daily_usage WHERE day < ?').run(utcDay(cutoff));
      return changes;
    })();
    this.files.removeUnreferenced((sha) => this.claimed.has(sha) || this.isReferenced(sha));
    return deleted;
  }

  /** Prepared once per distinct SQL text: the same few statements run for every job. */
  private sql(text: string): Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  close(): void {
    this.db.close();
  }

  private isReferenced(sha256: string): boolean {
    return this.sql('SELECT 1 FROM job_inputs WHERE sha256 = ? LIMIT 1').get(sha256) !== undefined;
  }

  private removeOrphanFiles(shas: readonly string[]): void {
    const orphans = new Set(shas.filter((sha) => !this.isReferenced(sha)));
    if (orphans.size > 0) this.files.removeUnreferenced((sha) => !orphans.has(sha));
  }

  private rows(sql: string, ...params: SqlValue[]): JobRow[] {
    return (this.sql(sql).all(...params) as JobRecord[]).map((r) => this.toRow(r));
  }

  private toRow(r: JobRecord): JobRow {
    const images = this
      .sql('SELECT option, filename, mime, sha256, size FROM job_inputs WHERE job_id = ? ORDER BY rowid')
      .all(r.id) as Omit<StoredImage, 'path'>[];
    const deliveryRows = this
      .sql('SELECT message_id, file, delivered_at FROM deliveries WHERE job_id = ? ORDER BY delivered_at, rowid')
      .all(r.id) as { message_id: string; file: string; delivered_at: number }[];
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
    };
  }
}

/** Open (creating if needed) `<dataDir>/comfycord.db` in WAL mode and bring its schema up to date. */
export function openJobStore(options: JobStoreOptions): JobStore {
  const logger = options.logger ?? silentLogger;
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
    const { from, to } = migrate(db, options.migrations ?? MIGRATIONS);
    if (from !== to) logger.info({ path, from, to }, 'job database schema migrated');
    const files = new InputFiles(join(options.dataDir, 'inputs'));
    const clock = options.clock ?? { now: () => Date.now() };
    const store = new JobStore(db, files, () => clock.now());
    store.forgetExpiredTokens();
    return store;
  } catch (error) {
    db.close();
    if (error instanceof StoreError) throw error;
    throw new StoreError(`cannot prepare the job database ${path}: ${(error as Error).message}`, { cause: error });
  }
}
