// The durable job store: every job is written before it is submitted and after every change, so jobs survive
// restarts and result buttons work on any past job. One interface, two engines: SQLite in the data dir (the
// default: one process) or PostgreSQL (COMFYCORD_DATABASE_URL: several processes sharing one store). Image inputs
// stay files under the data dir either way (content-addressed; a shared volume when processes share a store).
import type { Logger } from '../config/logger.js';
import { silentLogger } from '../config/logger.js';
import type { JobMode } from './job.js';
import { MIGRATIONS, type Migration } from './migrations.js';
import type { GuildSettings, GuildSettingsPatch, UserDefaults } from './store-settings.js';
import type { LeaderView, PublishedView } from './leader-view.js';
import { openPgJobStore } from './store-pg.js';
import { openSqliteJobStore } from './store-sqlite.js';
import type {
  Admission,
  AdmissionCaps,
  CancelRequest,
  CancelRequestResult,
  GuildCommandRow,
  GpuCharge,
  GpuUserTotal,
  JobPatch,
  JobRow,
  JobState,
  Hold,
  HoldScope,
  Lease,
  NewJobRow,
  StoredHolds,
  ProcessRow,
  SavedInput,
} from './store-types.js';

export { FencedError, StoreError } from './store-errors.js';
export { utcDay } from './store-sql.js';
export type { Migration } from './migrations.js';
export type { LeaderView, PublishedView } from './leader-view.js';
export type { GuildSettings, GuildSettingsPatch, UserDefaults } from './store-settings.js';
export * from './store-types.js';

export interface JobStore {
  readonly engine: 'sqlite' | 'postgres';
  /** Write a new 'queued' job and its image inputs in one transaction. */
  insertJob(job: NewJobRow): void;
  /** Admission against `caps` and insert in one transaction (see SqlJobStore.admitJob). */
  admitJob(job: NewJobRow, caps: AdmissionCaps): Admission;
  /**
   * Change fields of a job (not its state); throws when the job does not exist. Returns nothing: the callers, a
   * few per job, read nothing back, and reading the row again cost more than the write.
   */
  updateJob(id: string, patch: JobPatch): void;
  /** Compare-and-set: move the job to `to` only if it is in one of `from`; false when it is not. */
  transition(id: string, from: readonly JobState[], to: JobState, patch?: JobPatch): boolean;
  get(id: string): JobRow | null;
  /** The job whose card, or one of whose result messages, is message `messageId`. */
  byMessage(messageId: string): JobRow | null;
  /** Saves an image input ahead of its job. */
  saveInput(bytes: Buffer): Promise<SavedInput>;
  /** Removes a file saved by saveInput when no job refers to it. */
  dropInput(sha256: string): void;
  /** Queued jobs in submission order, then those dispatched or running. */
  unfinished(): JobRow[];
  /** Records a member's cancel on an unfinished job with none yet (see SqlJobStore.requestCancel); not fenced. */
  requestCancel(id: string, request: Omit<CancelRequest, 'at'>): CancelRequestResult;
  /** Records a cancel on every unfinished job of `ownerId`; returns their ids. */
  requestCancelsOf(ownerId: string, request: Omit<CancelRequest, 'at'>): string[];
  /** Unfinished jobs with a cancel request, oldest request first. */
  cancelRequested(): JobRow[];
  listByUser(userId: string, options?: { limit?: number; before?: number }): JobRow[];
  /** When the user's newest job was created; undefined when they have none. */
  lastCreatedAt(userId: string): number | undefined;
  /** Records posted files; a file recorded before fails the whole call (nothing is delivered twice). */
  recordDelivery(id: string, delivery: { messageId: string; files: readonly string[]; complete?: boolean }): void;
  pendingDeliveries(): JobRow[];
  forgetExpiredTokens(): number;
  countJobsSince(userId: string, sinceMs: number): number;
  addUsage(userId: string, amount?: number): number;
  usage(userId: string, day?: string): number;
  /** GPU ms of a user's jobs (of one mode, or all) finished at or after `sinceMs`. */
  gpuMsSince(userId: string, sinceMs: number, mode?: JobMode): number;
  gpuChargesSince(sinceMs: number): GpuCharge[];
  topGpuUsers(options: { sinceMs: number; guildId?: string | null; limit: number }): GpuUserTotal[];
  guildSettings(guildId: string): GuildSettings;
  guildIds(): string[];
  setGuildSettings(guildId: string, patch: GuildSettingsPatch): GuildSettings;
  guildCommands(guildId?: string): GuildCommandRow[];
  insertGuildCommand(row: Omit<GuildCommandRow, 'createdAt'>): boolean;
  deleteGuildCommand(guildId: string, name: string): boolean;
  userDefaults(userId: string, command: string): UserDefaults;
  setUserDefaults(userId: string, command: string, values: UserDefaults | null): void;
  /** The mode a member chose with `/settings mode` (fast when never chosen). */
  userMode(userId: string): JobMode;
  setUserMode(userId: string, mode: JobMode): void;
  prune(olderThanDays: number): number;
  /** Takes the leader lease if free; this store's writes are fenced by it from then on (FencedError). */
  acquireLease(holder: string, ttlMs: number): Lease | null;
  /** Extends this store's lease; false once another process has taken it. */
  renewLease(ttlMs: number): boolean;
  releaseLease(): void;
  currentLease(): Lease | null;
  /** Records this process in the processes table (role, heartbeat); drops those silent for `forgetAfterMs`. */
  heartbeat(process: ProcessRow, forgetAfterMs: number): void;
  processes(): ProcessRow[];
  /**
   * Claims the telling of members that the leader holding lease `fence` was lost: true for the first process
   * to ask about that lease, false for every other (so one process edits the cards, once).
   */
  claimLeaderLoss(fence: number, processId: string): boolean;
  /** Every hold in force (the whole bot, each backend, each server), in one query. */
  holds(): StoredHolds;
  /** Sets or (null) lifts an operators' hold (a server's is its settings' `queue`). */
  setHold(scope: HoldScope, hold: Hold | null): void;
  /** The leader's view of the queue and the backends, for the standbys; fenced (the lease holder only). */
  publishView(view: LeaderView): void;
  publishedView(): PublishedView | null;
  /** Wakes the leader with `payload` (PostgreSQL NOTIFY; nothing with SQLite). */
  wake(payload: string): void;
  close(): void;
}

export interface JobStoreOptions {
  /** Image inputs go under `<dataDir>/inputs`; with SQLite the database is `<dataDir>/comfycord.db`. */
  dataDir: string;
  /** postgres://… to keep the store in PostgreSQL; absent: SQLite. */
  databaseUrl?: string | undefined;
  /** Epoch milliseconds; injectable for tests. */
  clock?: { now(): number };
  logger?: Logger;
  /** The schema history; only tests pass their own. */
  migrations?: readonly Migration[];
}

/** Open the store (creating and migrating its schema as needed) on the engine the options name. */
export function openJobStore(options: JobStoreOptions): JobStore {
  const resolved = {
    dataDir: options.dataDir,
    now: (() => {
      const clock = options.clock ?? { now: () => Date.now() };
      return () => clock.now();
    })(),
    logger: options.logger ?? silentLogger,
    migrations: options.migrations ?? MIGRATIONS,
  };
  const store = options.databaseUrl ? openPgJobStore({ ...resolved, url: options.databaseUrl }) : openSqliteJobStore(resolved);
  store.forgetExpiredTokens();
  return store;
}
