// Per-user limits and per-server caps: resolving the effective limits of one submission, and refusing it with
// the limit it broke.
// In-process counters rather than bottleneck: a refusal must be synchronous and say when the limit frees up,
// while bottleneck queues work instead of refusing it.
import type { LimitOverride, Limits } from '../config/schema.js';
import type { JobMode, JobOwner, ModeRequest } from '../jobs/job.js';
import type { CommandLimits } from '../templates/definition.js';
import type { Clock } from './clock.js';
import { decideMode, FAST_ONLY, relaxDelayMs } from './relax.js';
import { MemoryUsage, type SubmissionUsage } from './usage.js';

export type LimitName = 'running' | 'queued' | 'interval' | 'daily' | 'dailyGpu' | 'monthlyGpu' | 'guildRunning' | 'guildQueued';

export class LimitError extends Error {
  constructor(
    readonly limit: LimitName,
    message: string,
    readonly retryAt?: Date,
  ) {
    super(message);
    this.name = 'LimitError';
  }
}

export interface LimitContext {
  owner: JobOwner;
  command: string;
  commandLimits?: CommandLimits | undefined;
}

const USER_FIELDS = ['perUserRunning', 'perUserQueued', 'minIntervalSeconds', 'dailyQuota'] as const;
/** GPU-minute quotas: set in the config and by role overrides (a command file has none). */
const GPU_FIELDS = ['dailyGpuMinutes', 'monthlyGpuMinutes'] as const;
/** A server's caps count all its jobs, so only overrides naming nothing but a guild change them (see the config schema). */
const GUILD_FIELDS = ['perGuildRunning', 'perGuildQueued'] as const;
type LimitField = (typeof USER_FIELDS)[number] | (typeof GPU_FIELDS)[number] | (typeof GUILD_FIELDS)[number];

function matches(o: LimitOverride, ctx: LimitContext): boolean {
  return (
    (o.guild === undefined || o.guild === ctx.owner.guildId) &&
    (o.role === undefined || ctx.owner.roles.includes(o.role)) &&
    (o.command === undefined || o.command === ctx.command)
  );
}

function specificity(o: LimitOverride): number {
  return Number(o.guild !== undefined) + Number(o.role !== undefined) + Number(o.command !== undefined);
}

/** Larger is more generous for every field but the interval. */
function moreGenerous(field: LimitField, a: number, b: number): number {
  return field === 'minIntervalSeconds' ? Math.min(a, b) : Math.max(a, b);
}

/**
 * Effective limits: config `limits`, then the command file's own limits, then matching overrides from the
 * least to the most specific (guild < guild+role < guild+role+command). Among overrides equally specific
 * (a member with two roles), the most generous value wins. A server's caps come from `limits` and the overrides
 * that name only that guild.
 */
export function resolveLimits(base: Limits, overrides: readonly LimitOverride[], ctx: LimitContext): Limits {
  const out: Limits = { ...base };
  for (const field of USER_FIELDS) {
    const value = ctx.commandLimits?.[field];
    if (value !== undefined) out[field] = value;
  }
  const levels = new Map<number, LimitOverride[]>();
  for (const o of overrides.filter((o) => matches(o, ctx))) {
    const level = specificity(o);
    levels.set(level, [...(levels.get(level) ?? []), o]);
  }
  for (const level of [...levels.keys()].sort((a, b) => a - b)) {
    const group = levels.get(level)!;
    for (const field of [...USER_FIELDS, ...GPU_FIELDS]) applyMostGenerous(out, field, group);
    const serverWide = group.filter((o) => o.role === undefined && o.command === undefined);
    for (const field of GUILD_FIELDS) applyMostGenerous(out, field, serverWide);
  }
  return out;
}

function applyMostGenerous(out: Limits, field: LimitField, overrides: readonly LimitOverride[]): void {
  const values = overrides.map((o) => o[field]).filter((v): v is number => v !== undefined);
  if (values.length > 0) out[field] = values.reduce((a, b) => moreGenerous(field, a, b));
}

/** Live jobs of one user or of one server. */
export interface Load {
  running: number;
  queued: number;
  /** When the soonest of these jobs is expected to end, if known (for retryAt on the running and queued limits). */
  nextFreeAt?: number | undefined;
}

/** A server's live jobs; direct messages (`guildId` null) count as one server. */
export interface GuildLoad extends Load {
  guildId: string | null;
}

const DAY_MS = 86_400_000;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "the limit" when the count is exactly at it; the number when it is lower (lowered by an override or reload). */
function theLimit(count: number, limit: number): string {
  return count === limit ? 'the limit' : `the limit is ${limit}`;
}

/** The UTC day and calendar month containing `now` (epoch ms; end exclusive): the GPU quotas' periods. */
export function gpuPeriods(now: number): { day: { start: number; end: number }; month: { start: number; end: number } } {
  const dayStart = Math.floor(now / DAY_MS) * DAY_MS;
  const d = new Date(now);
  return {
    day: { start: dayStart, end: dayStart + DAY_MS },
    month: { start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) },
  };
}

/** GPU time for people: "45 s", "2.5 min", "12 min". */
export function minutes(ms: number): string {
  const m = ms / 60_000;
  if (m < 1) return `${Math.round(ms / 1000)} s`;
  return `${m >= 10 ? Math.round(m) : Math.round(m * 10) / 10} min`;
}

function utcTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

/** Whose live jobs a running and a waiting limit count, and how a refusal names them. */
interface Holder {
  /** "You already have …" */
  has: string;
  running: { name: LimitName; cap: number };
  queued: { name: LimitName; cap: number };
  /** Adds when the limit is expected to free up to a refusal's message. */
  saysWhen: boolean;
}

function userHolder(limits: Limits): Holder {
  return {
    has: 'You already have',
    running: { name: 'running', cap: limits.perUserRunning },
    queued: { name: 'queued', cap: limits.perUserQueued },
    saysWhen: false,
  };
}

function guildHolder(limits: Limits, guildId: string | null): Holder {
  return {
    has: guildId === null ? 'Direct messages to the bot already have' : 'This server already has',
    running: { name: 'guildRunning', cap: limits.perGuildRunning ?? Infinity },
    queued: { name: 'guildQueued', cap: limits.perGuildQueued ?? Infinity },
    saysWhen: true,
  };
}

/**
 * Throws LimitError when the holder's running limit is full and nothing may wait, or when the job would wait
 * (`waits`, or for this holder's own limits) and its waiting limit is full. Returns whether the job would wait.
 */
function checkLoad(holder: Holder, load: Load, waits: boolean): boolean {
  const retryAt = load.nextFreeAt !== undefined ? new Date(load.nextFreeAt) : undefined;
  const when = holder.saysWhen && retryAt ? ` (expected around ${utcTime(retryAt.getTime())} UTC)` : '';
  const { running, queued } = holder;
  const runningFull = load.running >= running.cap;
  if (runningFull && queued.cap === 0) {
    throw new LimitError(
      running.name,
      `${holder.has} ${plural(load.running, 'job')} running (${theLimit(load.running, running.cap)}); wait for ${load.running === 1 ? 'it' : 'one'} to finish${when}`,
      retryAt,
    );
  }
  // A job that would start at once does not count as waiting.
  const wouldWait = waits || runningFull || load.queued > 0;
  if (wouldWait && load.queued >= queued.cap) {
    throw new LimitError(
      queued.name,
      `${holder.has} ${plural(load.queued, 'job')} waiting (${theLimit(load.queued, queued.cap)}); wait for one to finish${when}`,
      retryAt,
    );
  }
  return wouldWait;
}

/**
 * Checks each submission against the limits. Admissions (interval and daily quota) are kept in `usage`, in
 * memory unless a persistent one is given; counts of live jobs come from the caller.
 */
export class SubmissionLimiter {
  constructor(
    private readonly clock: Clock,
    private readonly usage: SubmissionUsage = new MemoryUsage(),
  ) {}

  /**
   * Throws LimitError when this submission breaks a limit (the user's, then the server's, then the interval, the
   * daily quota and the fast GPU quotas, see relax.ts); records it otherwise and returns the mode it runs in.
   */
  admit(userId: string, limits: Limits, user: Load, guild: GuildLoad, request: ModeRequest = FAST_ONLY): JobMode {
    const mode = this.check(userId, limits, user, guild, request);
    this.usage.record(userId, this.clock.now());
    return mode;
  }

  /** Throws LimitError when this submission would break a limit, else returns the mode it would run in; records nothing. */
  check(userId: string, limits: Limits, user: Load, guild: GuildLoad, request: ModeRequest = FAST_ONLY): JobMode {
    const now = this.clock.now();
    const waits = checkLoad(userHolder(limits), user, false);
    checkLoad(guildHolder(limits, guild.guildId), guild, waits);
    const intervalMs = limits.minIntervalSeconds * 1000;
    // With no interval the last admission is not read: the store would answer it with a query at every check.
    const last = intervalMs > 0 ? this.usage.lastAt(userId) : undefined;
    if (last !== undefined && now - last < intervalMs) {
      const at = last + intervalMs;
      throw new LimitError(
        'interval',
        `Please wait ${Math.ceil((at - now) / 1000)} s between jobs (the limit is ${limits.minIntervalSeconds} s); you can submit again at ${utcTime(at)} UTC`,
        new Date(at),
      );
    }
    if (limits.dailyQuota !== undefined && this.usage.countOnDay(userId, now) >= limits.dailyQuota) {
      throw new LimitError(
        'daily',
        `Daily quota reached (${plural(limits.dailyQuota, 'job')}); it resets at 00:00 UTC`,
        new Date((Math.floor(now / DAY_MS) + 1) * DAY_MS),
      );
    }
    return decideMode(this.usage, userId, limits, request, now);
  }

  /**
   * A submission refused after it cost the bot work (a blocked prompt, an attachment downloaded and refused):
   * it starts the user's interval like an admission, so retrying at once is refused cheaply. The daily quota is
   * not charged.
   */
  noteRefused(userId: string): void {
    this.usage.noteAttempt(userId, this.clock.now());
  }

  /** A finished job's GPU time, for the GPU-minute quotas (fast) and relax's slowdown (relax). */
  chargeGpu(userId: string, ms: number, mode: JobMode): void {
    this.usage.chargeGpu(userId, ms, this.clock.now(), mode);
  }

  /** How long a relax job of this user waits at least before it may start (relax.ts). */
  relaxDelay(userId: string, slowdown: number): number {
    return relaxDelayMs(this.usage, userId, slowdown, this.clock.now());
  }
}
