// Results Discord would not take (an outage, a 5xx storm) stay pending in the store. While the bot runs they are
// tried again on a backoff: quickly at first, then less and less often while nothing gets through, so an outage
// is not hammered; any progress, or nothing left pending, starts the backoff over.
// Nothing is retried forever: results that can never be had again (their backend left the config, ComfyUI no
// longer has the files) are given up after a few tries, and any results still pending a while after the job
// finished are given up too; the job then fails with the reason, on its card or by DM.
import { deliveryOverdue, overdueReason } from '../../jobs/deliveryLimit.js';
import type { JobRow } from '../../jobs/store-types.js';
import type { BotContext } from './context.js';

/** How one more try at a pending delivery went. */
export type RetryOutcome =
  /** Posted, or nothing (left) to post. */
  | { kind: 'done' }
  /** Not (all) posted for now (Discord refused, the backend was unreachable): tried again while time is left. */
  | { kind: 'retry'; reason: string }
  /** The results cannot be had or posted any more; a few more tries in case the cause is fixed, then given up. */
  | { kind: 'lost'; reason: string };

export interface DeliveryRetryOptions {
  /** Wait before the first retry, and again after a round that got something through. Default 30 s. */
  firstDelayMs?: number;
  /** The longest wait between two rounds. Default 10 min. */
  maxDelayMs?: number;
  /** Tries that end 'lost' before the job is given up (counted per run of the bot). Default 5. */
  maxLostTries?: number;
  /** A job whose results are still pending this long after it finished is given up. Default 24 h. */
  maxAgeMs?: number;
}

export interface DeliveryRetry {
  /** No further rounds; a round under way finishes its current job. */
  stop(): void;
}

export interface DeliveryRetryActions {
  deliver(row: JobRow): Promise<RetryOutcome>;
  /** Fails the job with `reason` and tells its owner (card or DM). */
  giveUp(row: JobRow, reason: string): Promise<void>;
}

const DEFAULT_FIRST_DELAY_MS = 30_000;
const DEFAULT_MAX_DELAY_MS = 10 * 60_000;
const DEFAULT_MAX_LOST_TRIES = 5;
const DEFAULT_MAX_AGE_MS = 24 * 3_600_000;

export function startDeliveryRetry(
  ctx: Pick<BotContext, 'store' | 'delivering' | 'logger'>,
  actions: DeliveryRetryActions,
  options: DeliveryRetryOptions = {},
): DeliveryRetry {
  const first = options.firstDelayMs ?? DEFAULT_FIRST_DELAY_MS;
  const max = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const maxLost = options.maxLostTries ?? DEFAULT_MAX_LOST_TRIES;
  const maxAge = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  if (!(first > 0) || !(max >= first)) {
    throw new RangeError(`delivery retry needs 0 < firstDelayMs <= maxDelayMs, got ${first} and ${max}`);
  }
  if (!(Number.isInteger(maxLost) && maxLost > 0) || !(maxAge > 0)) {
    throw new RangeError(`delivery retry needs maxLostTries >= 1 and maxAgeMs > 0, got ${maxLost} and ${maxAge}`);
  }
  let delay = first;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  /** Per job: tries that ended 'lost', and the last reason it was not delivered (for the give-up message). */
  const history = new Map<string, { lost: number; reason: string | null }>();

  const pending = (): JobRow[] => {
    try {
      return ctx.store.pendingDeliveries();
    } catch (error) {
      ctx.logger.error({ err: error }, 'job store: could not list pending deliveries');
      return [];
    }
  };
  const giveUp = async (row: JobRow, reason: string): Promise<void> => {
    history.delete(row.id);
    ctx.logger.warn({ job: row.id, reason }, 'gave up delivering the results of a finished job');
    try {
      await actions.giveUp(row, reason);
    } catch (error) {
      ctx.logger.error({ job: row.id, err: error }, 'could not mark an undeliverable job failed');
    }
  };
  const attempt = async (row: JobRow): Promise<void> => {
    const seen = history.get(row.id) ?? { lost: 0, reason: null };
    history.set(row.id, seen);
    if (deliveryOverdue(row, maxAge, Date.now())) {
      return giveUp(row, `${overdueReason(maxAge)}${seen.reason ? ` (last: ${seen.reason})` : ''}`);
    }
    let outcome: RetryOutcome;
    try {
      outcome = await actions.deliver(row);
    } catch (error) {
      ctx.logger.error({ job: row.id, err: error }, 'retrying a pending delivery failed');
      outcome = { kind: 'retry', reason: 'an unexpected error' };
    }
    if (outcome.kind === 'done') {
      history.delete(row.id);
      return;
    }
    seen.reason = outcome.reason;
    if (outcome.kind === 'lost') {
      seen.lost += 1;
      if (seen.lost >= maxLost) return giveUp(row, outcome.reason);
    }
  };
  const round = async (): Promise<void> => {
    const due = pending().filter((row) => !ctx.delivering.has(row.id));
    for (const row of due) {
      if (stopped) return;
      await attempt(row);
    }
    const left = new Set(pending().map((row) => row.id));
    for (const id of history.keys()) if (!left.has(id)) history.delete(id);
    const progressed = due.some((row) => !left.has(row.id));
    // Backs off only after rounds that tried something and got nothing through.
    delay = due.length === 0 || left.size === 0 || progressed ? first : Math.min(delay * 2, max);
    if (due.length > 0) ctx.logger.info({ tried: due.length, left: left.size, nextInMs: delay }, 'retried pending deliveries');
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      void round().finally(schedule);
    }, delay);
    timer.unref();
  };
  schedule();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
