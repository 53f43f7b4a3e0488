// Results Discord would not take (an outage, a 5xx storm) stay pending in the store. While the bot runs they are
// tried again on a backoff: quickly at first, then less and less often while nothing gets through, so an outage
// is not hammered; any progress, or nothing left pending, starts the backoff over.
import type { JobRow } from '../../jobs/store-types.js';
import type { BotContext } from './context.js';

export interface DeliveryRetryOptions {
  /** Wait before the first retry, and again after a round that got something through. Default 30 s. */
  firstDelayMs?: number;
  /** The longest wait between two rounds. Default 10 min. */
  maxDelayMs?: number;
}

export interface DeliveryRetry {
  /** No further rounds; a round under way finishes its current job. */
  stop(): void;
}

const DEFAULT_FIRST_DELAY_MS = 30_000;
const DEFAULT_MAX_DELAY_MS = 10 * 60_000;

export function startDeliveryRetry(
  ctx: Pick<BotContext, 'store' | 'delivering' | 'logger'>,
  deliver: (row: JobRow) => Promise<void>,
  options: DeliveryRetryOptions = {},
): DeliveryRetry {
  const first = options.firstDelayMs ?? DEFAULT_FIRST_DELAY_MS;
  const max = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  if (!(first > 0) || !(max >= first)) {
    throw new RangeError(`delivery retry needs 0 < firstDelayMs <= maxDelayMs, got ${first} and ${max}`);
  }
  let delay = first;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;

  const pending = (): JobRow[] => {
    try {
      return ctx.store.pendingDeliveries();
    } catch (error) {
      ctx.logger.error({ err: error }, 'job store: could not list pending deliveries');
      return [];
    }
  };
  const round = async (): Promise<void> => {
    const due = pending().filter((row) => !ctx.delivering.has(row.id));
    for (const row of due) {
      if (stopped) return;
      try {
        await deliver(row);
      } catch (error) {
        ctx.logger.error({ job: row.id, err: error }, 'retrying a pending delivery failed');
      }
    }
    const left = new Set(pending().map((row) => row.id));
    const progressed = due.some((row) => !left.has(row.id));
    delay = left.size === 0 || progressed ? first : Math.min(delay * 2, max);
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
