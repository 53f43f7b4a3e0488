// Per-user limits: resolving the effective limits of one submission, and refusing it with the limit it broke.
// In-process counters rather than bottleneck: a refusal must be synchronous and say when the limit frees up,
// while bottleneck queues work instead of refusing it.
import type { LimitOverride, Limits } from '../config/schema.js';
import type { JobOwner } from '../jobs/job.js';
import type { CommandLimits } from '../templates/definition.js';
import type { Clock } from './clock.js';
import { MemoryUsage, type SubmissionUsage } from './usage.js';

export type LimitName = 'running' | 'queued' | 'interval' | 'daily';

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

const LIMIT_FIELDS = ['perUserRunning', 'perUserQueued', 'minIntervalSeconds', 'dailyQuota'] as const;

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
function moreGenerous(field: (typeof LIMIT_FIELDS)[number], a: number, b: number): number {
  return field === 'minIntervalSeconds' ? Math.min(a, b) : Math.max(a, b);
}

/**
 * Effective limits: config `limits`, then the command file's own limits, then matching overrides from the
 * least to the most specific (guild < guild+role < guild+role+command). Among overrides equally specific
 * (a member with two roles), the most generous value wins.
 */
export function resolveLimits(base: Limits, overrides: readonly LimitOverride[], ctx: LimitContext): Limits {
  const out: Limits = { ...base };
  for (const field of LIMIT_FIELDS) {
    const value = ctx.commandLimits?.[field];
    if (value !== undefined) out[field] = value;
  }
  const levels = new Map<number, LimitOverride[]>();
  for (const o of overrides.filter((o) => matches(o, ctx))) {
    const level = specificity(o);
    levels.set(level, [...(levels.get(level) ?? []), o]);
  }
  for (const level of [...levels.keys()].sort((a, b) => a - b)) {
    for (const field of LIMIT_FIELDS) {
      const values = levels.get(level)!.map((o) => o[field]).filter((v): v is number => v !== undefined);
      if (values.length === 0) continue;
      out[field] = values.reduce((a, b) => moreGenerous(field, a, b));
    }
  }
  return out;
}

export interface UserLoad {
  running: number;
  queued: number;
  /** When the user's soonest job is expected to end, if known (for retryAt on running/queued). */
  nextFreeAt?: number | undefined;
}

const DAY_MS = 86_400_000;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "the limit" when the user is exactly at it; the number when it is lower (lowered by an override or reload). */
function theLimit(count: number, limit: number): string {
  return count === limit ? 'the limit' : `the limit is ${limit}`;
}

function utcTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
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

  /** Throws LimitError when this submission breaks a limit; records it otherwise. */
  admit(userId: string, limits: Limits, load: UserLoad): void {
    this.check(userId, limits, load);
    this.usage.record(userId, this.clock.now());
  }

  /** Throws LimitError when this submission would break a limit; records nothing. */
  check(userId: string, limits: Limits, load: UserLoad): void {
    const now = this.clock.now();
    const retryAt = load.nextFreeAt !== undefined ? new Date(load.nextFreeAt) : undefined;
    const runningFull = load.running >= limits.perUserRunning;
    if (runningFull && limits.perUserQueued === 0) {
      throw new LimitError(
        'running',
        `You already have ${plural(load.running, 'job')} running (${theLimit(load.running, limits.perUserRunning)}); wait for ${load.running === 1 ? 'it' : 'one'} to finish`,
        retryAt,
      );
    }
    // A job that would start at once does not count as waiting.
    const wouldWait = runningFull || load.queued > 0;
    if (wouldWait && load.queued >= limits.perUserQueued) {
      throw new LimitError(
        'queued',
        `You already have ${plural(load.queued, 'job')} waiting (${theLimit(load.queued, limits.perUserQueued)}); wait for one to finish`,
        retryAt,
      );
    }
    const last = this.usage.lastAt(userId);
    const intervalMs = limits.minIntervalSeconds * 1000;
    if (last !== undefined && intervalMs > 0 && now - last < intervalMs) {
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
  }

  /**
   * A submission refused after it cost the bot work (a blocked prompt, an attachment downloaded and refused):
   * it starts the user's interval like an admission, so retrying at once is refused cheaply. The daily quota is
   * not charged.
   */
  noteRefused(userId: string): void {
    this.usage.noteAttempt(userId, this.clock.now());
  }
}
