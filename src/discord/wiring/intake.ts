// Where an accepted submission goes. One process (SQLite, or no database URL): straight into this process's
// scheduler, with its row and card, as always. Several processes sharing PostgreSQL: whichever process the
// interaction reached (the leader or a standby) admits the job in the database — the member's and the server's
// caps decided in the same transaction as the insert, so two processes cannot both admit one job too many — and
// wakes the leader, which adopts the row into its scheduler and drives the card from the interaction's token.
import { randomUUID } from 'node:crypto';
import { jobWake } from '../../cluster/wakes.js';
import type { Job, JobMode, JobSpec } from '../../jobs/job.js';
import type { JobPlacement } from '../../jobs/persistence.js';
import { newJobRow, persistJob } from '../../jobs/persistence.js';
import type { AdmissionCaps } from '../../jobs/store-types.js';
import { LimitError, type LimitName } from '../../scheduler/limits.js';
import type { AdmissionQuery } from '../../scheduler/scheduler.js';
import type { BotContext } from './context.js';

/** A submission taken: the job running here, or handed to the leader through the store (its id only). */
export type Accepted = { job: Job; id: string } | { job: null; id: string };

export interface JobIntake {
  /**
   * Whether an accepted job runs in this process, its card drawn here at once; otherwise it is handed to the leader,
   * which edits the interaction's reply into the card (so the interaction must be answered before the hand-over).
   */
  readonly runsHere: boolean;
  /** What would refuse the submission now (LimitError / UnavailableError), admitting nothing. */
  check(query: AdmissionQuery): void;
  /** Takes the job or throws LimitError / UnavailableError. */
  accept(spec: JobSpec, placement: JobPlacement): Accepted;
}

/** The only process: this scheduler decides and runs. */
export function localIntake(ctx: Pick<BotContext, 'scheduler' | 'store' | 'logger'>): JobIntake {
  return {
    runsHere: true,
    check: (query) => ctx.scheduler.check(query),
    accept(spec, placement) {
      const job = ctx.scheduler.submit(spec);
      // Synchronously after submit: the row, with the prompt id, is written before the backend request leaves.
      persistJob(ctx.store, job, placement, ctx.logger);
      return { job, id: job.id };
    },
  };
}

const CAP_NAMES: Record<keyof AdmissionCaps, { limit: LimitName; says: (count: number, cap: number) => string }> = {
  userLive: { limit: 'queued', says: (n, cap) => `You already have ${n} jobs waiting or running (the limit is ${cap}); wait for one to finish` },
  guildLive: { limit: 'guildQueued', says: (n, cap) => `This server already has ${n} jobs waiting or running (the limit is ${cap}); wait for one to finish` },
  dailyQuota: { limit: 'daily', says: (_n, cap) => `Daily quota reached (${cap} jobs); it resets at 00:00 UTC` },
};

/**
 * Several processes: admitted in the store, then the leader is woken. Every process runs the scheduler's check:
 * its minimum interval, daily quota, GPU-minute quotas and mode read the shared store (a standby's own queue is
 * empty, its backends unknown, so those rules refuse nothing there); the live caps are decided again in the
 * insert's transaction. The holds (`/comfy pause|drain`, everywhere or a server's) are read from the store into
 * this process's scheduler first, so a standby refuses a draining bot's or server's job as the leader would.
 */
export function sharedIntake(ctx: Pick<BotContext, 'scheduler' | 'store' | 'holds'>): JobIntake {
  const check = (query: AdmissionQuery): JobMode => {
    ctx.holds.sync();
    return ctx.scheduler.check(query);
  };
  return {
    runsHere: false,
    check,
    accept(spec, placement) {
      const query = {
        owner: spec.owner,
        command: spec.command,
        ...(spec.commandLimits ? { commandLimits: spec.commandLimits } : {}),
        ...(spec.limitOverrides ? { limitOverrides: spec.limitOverrides } : {}),
        ...(spec.modeRequest ? { modeRequest: spec.modeRequest } : {}),
      };
      // Checked again as submit() would: the mode the job runs in is decided now and kept in its row.
      const mode = check(query);
      const limits = ctx.scheduler.limitsFor(query);
      const caps: AdmissionCaps = { userLive: limits.perUserRunning + limits.perUserQueued };
      if (limits.perGuildRunning !== undefined || limits.perGuildQueued !== undefined) {
        caps.guildLive = (limits.perGuildRunning ?? Infinity) + (limits.perGuildQueued ?? 0);
        if (!Number.isFinite(caps.guildLive)) delete caps.guildLive;
      }
      if (limits.dailyQuota !== undefined) caps.dailyQuota = limits.dailyQuota;
      const id = spec.id ?? randomUUID();
      const admission = ctx.store.admitJob(newJobRow({ id, promptId: '', spec, mode }, placement), caps);
      if (!admission.admitted) {
        const named = CAP_NAMES[admission.limit];
        throw new LimitError(named.limit, named.says(admission.count, admission.cap));
      }
      ctx.store.wake(jobWake(id));
      return { job: null, id };
    },
  };
}
