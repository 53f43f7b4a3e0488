// Relax mode's two rules: which mode a submission runs in (the member's choice, their fast GPU quota, whether
// their server allows relax), and how much later a relax job may start the more relax GPU time its owner used today.
import type { Limits } from '../config/schema.js';
import type { JobMode, ModeRequest } from '../jobs/job.js';
import { gpuPeriods, LimitError, minutes } from './limits.js';
import type { SubmissionUsage } from './usage.js';

/** A member who never chose, in a server that never said: fast, no relax. */
export const FAST_ONLY: ModeRequest = { preferred: 'fast', relaxAllowed: false };

/**
 * The mode a submission runs in. Relax when the member chose it and the server allows it; else fast while the
 * fast GPU quotas (day, month) have time left; once one is used up, relax if the server allows it, else refused
 * with when the quota resets. Only fast GPU time counts in those quotas.
 */
export function decideMode(usage: Pick<SubmissionUsage, 'gpuMsSince'>, userId: string, limits: Limits, request: ModeRequest, now: number): JobMode {
  if (request.preferred === 'relax' && request.relaxAllowed) return 'relax';
  const over = fastQuotaUsedUp(usage, userId, limits, now);
  if (over === null) return 'fast';
  if (request.relaxAllowed) return 'relax';
  throw over;
}

/** The refusal of the first fast GPU quota used up (the day's, then the month's), or null while both have time left. */
export function fastQuotaUsedUp(usage: Pick<SubmissionUsage, 'gpuMsSince'>, userId: string, limits: Limits, now: number): LimitError | null {
  const { day, month } = gpuPeriods(now);
  if (limits.dailyGpuMinutes !== undefined) {
    const used = usage.gpuMsSince(userId, day.start, 'fast');
    if (used >= limits.dailyGpuMinutes * 60_000) {
      return new LimitError('dailyGpu', `Daily GPU time used up (${minutes(used)} of ${minutes(limits.dailyGpuMinutes * 60_000)}); it resets at 00:00 UTC`, new Date(day.end));
    }
  }
  if (limits.monthlyGpuMinutes !== undefined) {
    const used = usage.gpuMsSince(userId, month.start, 'fast');
    if (used >= limits.monthlyGpuMinutes * 60_000) {
      const reset = new Date(month.end).toISOString().slice(0, 10);
      return new LimitError('monthlyGpu', `Monthly GPU time used up (${minutes(used)} of ${minutes(limits.monthlyGpuMinutes * 60_000)}); it resets on ${reset} at 00:00 UTC`, new Date(month.end));
    }
  }
  return null;
}

/**
 * How long a relax job waits at least before it may start: `slowdown` × the relax GPU time its owner used today
 * (UTC). With 0.5, after 10 minutes of relax GPU time today each new relax job waits at least 5 minutes; the
 * first relax job of the day waits for nothing but fast jobs.
 */
export function relaxDelayMs(usage: Pick<SubmissionUsage, 'gpuMsSince'>, userId: string, slowdown: number, now: number): number {
  if (slowdown === 0) return 0;
  return usage.gpuMsSince(userId, gpuPeriods(now).day.start, 'relax') * slowdown;
}
