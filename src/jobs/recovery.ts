// Start-up recovery: every job the store holds unfinished goes back to the scheduler, through the port it
// implements for this (JobAdopter, adopter.ts). Queued ones return to the fair queue in their order; submitted
// ones are adopted on their backend, whose /history and /queue tell whether each is still pending, running,
// finished while the bot was down, or forgotten (then it is submitted again, once, with the same workflow and
// seed). Rows that cannot run again are failed with the reason, and succeeded jobs whose results were never
// posted are handed back for delivery (or failed, when they have been pending longer than the delivery time
// limit).
import { existsSync } from 'node:fs';
import { silentLogger, type Logger } from '../config/logger.js';
import type { InFlightJob, JobAdopter } from './adopter.js';
import type { Job, JobSpec } from './job.js';
import { deliveryOverdue, failUndeliverable, overdueReason } from './deliveryLimit.js';
import { followPersisted } from './persistence.js';
import { specFromRow, type CommandLookup, type RebuiltSpec } from './recovery-spec.js';
import type { JobStore } from './store.js';
import type { JobRow, JobState } from './store-types.js';

export type { CommandLookup } from './recovery-spec.js';

const UNFINISHED: readonly JobState[] = ['queued', 'dispatched', 'running'];

export interface RecoveryOptions {
  store: Pick<JobStore, 'unfinished' | 'transition' | 'updateJob' | 'pendingDeliveries' | 'get'>;
  /** The scheduler, through the port it implements for recovery. */
  scheduler: JobAdopter;
  /** The commands as loaded now (`name => registry.commands.get(name)`). */
  commands: CommandLookup;
  /** `config.jobs.maxTries`: a forgotten prompt is submitted again only while a try is left. */
  maxTries: number;
  /** `config.jobs.deliveryHours` in ms: succeeded jobs whose results are pending longer than this are failed. */
  deliveryMaxAgeMs?: number;
  /** Epoch ms now; default Date.now. */
  now?: () => number;
  logger?: Logger;
  /**
   * Called for every restored job while dispatch is still paused, so listeners attached here (the card)
   * see every state change, including the first dispatch. The store row is kept in step by recovery itself.
   */
  attach?: (job: Job, row: JobRow) => void;
  /**
   * Only the rows this accepts (the leader's sweep: queued rows standbys admitted that the scheduler does not
   * hold yet); pending deliveries are then left alone, the delivery retry has them. Absent: everything (start-up).
   */
  only?: (row: JobRow) => boolean;
}

/** A job back in the scheduler, with its row as it was at start-up (card message, interaction token, …). */
export interface RecoveredJob {
  job: Job;
  row: JobRow;
}

/** A row that could not run again; the store already holds it as failed with `error`. */
export interface UnrecoverableJob {
  row: JobRow;
  error: string;
}

export interface Recovery {
  /** Adopted in-flight jobs first, then the queued ones in queue order. */
  restored: RecoveredJob[];
  failed: UnrecoverableJob[];
  /** Succeeded jobs whose results are not (all) posted yet, oldest first. */
  undelivered: JobRow[];
}

export function recoverJobs(options: RecoveryOptions): Recovery {
  const { store, scheduler, commands } = options;
  const log = options.logger ?? silentLogger;
  const rows = new Map<string, JobRow>();
  const queued: JobSpec[] = [];
  const inFlight: InFlightJob[] = [];
  const waitingSince = new Map<string, number>();
  const failed: UnrecoverableJob[] = [];

  for (const row of store.unfinished()) {
    if (options.only && !options.only(row)) continue;
    const rebuilt = rebuild(row, commands, log);
    if (!rebuilt.ok) {
      const error = `could not be resumed after a restart: ${rebuilt.problem}`;
      store.transition(row.id, UNFINISHED, 'failed', { error });
      log.warn({ job: row.id, command: row.command, error }, 'job not recoverable');
      failed.push({ row, error });
      continue;
    }
    rows.set(row.id, row);
    if (row.state === 'queued') {
      queued.push(rebuilt.spec);
      if (row.waitSince !== null) waitingSince.set(row.id, row.waitSince);
    } else if (row.backend === null) {
      // Dispatched without a recorded backend: nowhere to look for its prompt, so it runs again.
      store.transition(row.id, UNFINISHED, 'queued', { backend: null });
      log.warn({ job: row.id }, 'in-flight job has no backend recorded; queued again');
      queued.push(rebuilt.spec);
    } else {
      inFlight.push({
        spec: rebuilt.spec,
        backend: row.backend,
        promptId: row.promptId,
        // Leaves exactly one more try, so a prompt the backend forgot is submitted again once, then failed.
        attempt: Math.max(row.attempts, options.maxTries - 1),
        // The row keeps no dispatch time: its start, else its last write, is the earliest known time at or after
        // the dispatch, so the time limit goes on counting and never cuts a run short.
        dispatchedAt: row.startedAt ?? row.updatedAt,
        startedAt: row.startedAt,
      });
    }
  }

  const restored: RecoveredJob[] = [];
  // Paused, so the first dispatch of a restored queued job happens after `attach` has run for every job.
  scheduler.holdDispatch();
  try {
    for (const job of scheduler.restore({ queued, inFlight, waitingSince })) {
      const row = rows.get(job.id);
      if (!row) throw new Error(`the scheduler restored job ${job.id}, which recovery did not give it`);
      keepPersisted(store, job, row, log);
      options.attach?.(job, row);
      restored.push({ job, row });
    }
  } finally {
    scheduler.releaseDispatch();
  }

  const undelivered: JobRow[] = [];
  if (options.only) return { restored, failed, undelivered };
  const now = (options.now ?? Date.now)();
  for (const row of store.pendingDeliveries()) {
    const maxAge = options.deliveryMaxAgeMs;
    const error = maxAge !== undefined && deliveryOverdue(row, maxAge, now) ? failUndeliverable(store, row, overdueReason(maxAge)) : null;
    if (error === null) {
      undelivered.push(row);
      continue;
    }
    log.warn({ job: row.id, error }, 'results pending past the delivery time limit; job failed');
    failed.push({ row, error });
  }
  log.info(
    { queued: queued.length, adopted: inFlight.length, failed: failed.length, undelivered: undelivered.length },
    'jobs recovered from the store',
  );
  return { restored, failed, undelivered };
}

/**
 * The persistence bridge on a row that already exists. `restore` may already have moved the job before anyone
 * listened (its backend is gone from the config: queued again, or failed when out of tries), so the row first
 * catches up with that.
 */
function keepPersisted(store: RecoveryOptions['store'], job: Job, row: JobRow, log: Logger): void {
  if (job.final) store.transition(row.id, UNFINISHED, job.state, { error: job.error });
  else if (job.state === 'queued' && row.state !== 'queued') store.transition(row.id, UNFINISHED, 'queued', { backend: null });
  followPersisted(store, job, row, log.child({ job: job.id }));
}

function rebuild(row: JobRow, commands: CommandLookup, log: Logger): RebuiltSpec {
  const missing = row.images.find((image) => !existsSync(image.path));
  if (missing) {
    // The path is the server's: it goes to the log, the owner gets the gist.
    log.error({ job: row.id, option: missing.option, path: missing.path }, 'saved input image missing');
    return { ok: false, problem: 'its saved input images could not be read' };
  }
  return specFromRow(row, row.images, commands);
}
