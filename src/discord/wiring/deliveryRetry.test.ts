import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../config/logger.js';
import type { JobRow } from '../../jobs/store-types.js';
import { startDeliveryRetry, type DeliveryRetry, type RetryOutcome } from './deliveryRetry.js';

/**
 * A store whose pending deliveries are the ids in `pending` (finished at time 0); a delivery that works removes
 * its id, one whose results are `lost` says why. Given-up jobs are recorded and leave the pending list.
 */
function harness(options: { works?: (id: string) => boolean; lost?: (id: string) => boolean } = {}) {
  const pending = new Set<string>();
  const delivering = new Set<string>();
  const attempts: { id: string; at: number }[] = [];
  const gaveUp: { id: string; reason: string; at: number }[] = [];
  const store = { pendingDeliveries: () => [...pending].map((id) => ({ id, finishedAt: 0, updatedAt: 0 }) as JobRow) } as never;
  const deliver = async (row: JobRow): Promise<RetryOutcome> => {
    attempts.push({ id: row.id, at: Date.now() });
    if (options.works?.(row.id)) {
      pending.delete(row.id);
      return { kind: 'done' };
    }
    return options.lost?.(row.id) ? { kind: 'lost', reason: 'ComfyUI no longer has the output files' } : { kind: 'retry', reason: 'Discord did not take them' };
  };
  const giveUp = async (row: JobRow, reason: string) => {
    gaveUp.push({ id: row.id, reason, at: Date.now() });
    pending.delete(row.id);
  };
  return { pending, delivering, attempts, gaveUp, ctx: { store, delivering, logger: silentLogger }, actions: { deliver, giveUp }, deliver };
}

let retry: DeliveryRetry | null = null;
beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  retry?.stop();
  retry = null;
  vi.useRealTimers();
});

describe('startDeliveryRetry', () => {
  it('retries a pending delivery after the first delay, while the bot runs', async () => {
    const h = harness({ works: () => true });
    h.pending.add('job-1');
    retry = startDeliveryRetry(h.ctx, h.actions);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(h.attempts).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.attempts).toEqual([{ id: 'job-1', at: 30_000 }]);
    expect(h.pending.size).toBe(0);
  });

  it('backs off from 30 s doubling up to 10 min while nothing gets through, and starts over after progress', async () => {
    let open = false;
    const h = harness({ works: () => open });
    h.pending.add('job-1');
    retry = startDeliveryRetry(h.ctx, h.actions);
    await vi.advanceTimersByTimeAsync(30_000 + 60_000 + 120_000 + 240_000 + 480_000 + 600_000 + 600_000);
    const at = h.attempts.map((a) => a.at);
    expect(at.map((t, i) => t - (at[i - 1] ?? 0))).toEqual([30_000, 60_000, 120_000, 240_000, 480_000, 600_000, 600_000]);

    open = true;
    await vi.advanceTimersByTimeAsync(600_000);
    expect(h.pending.size).toBe(0);
    h.pending.add('job-2');
    const before = Date.now();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(h.attempts.at(-1)).toEqual({ id: 'job-2', at: before + 30_000 });
  });

  it('skips a job whose delivery is in progress right now', async () => {
    const h = harness({ works: () => true });
    h.pending.add('busy');
    h.pending.add('idle');
    h.delivering.add('busy');
    retry = startDeliveryRetry(h.ctx, h.actions);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(h.attempts.map((a) => a.id)).toEqual(['idle']);
  });

  it('goes on with the next job when one delivery throws', async () => {
    const h = harness({ works: () => true });
    h.pending.add('broken');
    h.pending.add('fine');
    const deliver = async (row: JobRow) => {
      if (row.id === 'broken') throw new Error('backend gone');
      return h.deliver(row);
    };
    retry = startDeliveryRetry(h.ctx, { ...h.actions, deliver });
    await vi.advanceTimersByTimeAsync(30_000);
    expect(h.attempts.map((a) => a.id)).toEqual(['fine']);
    expect([...h.pending]).toEqual(['broken']);
  });

  it('retries nothing once stopped (shutdown)', async () => {
    const h = harness();
    h.pending.add('job-1');
    retry = startDeliveryRetry(h.ctx, h.actions);
    retry.stop();
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(h.attempts).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('gives up results that are lost after the allowed tries, with the reason', async () => {
    const h = harness({ lost: (id) => id === 'gone' });
    h.pending.add('gone');
    h.pending.add('outage');
    retry = startDeliveryRetry(h.ctx, h.actions, { maxLostTries: 3 });
    // Rounds at 30 s, 90 s, 210 s (nothing gets through, so the backoff grows).
    await vi.advanceTimersByTimeAsync(30_000 + 60_000 + 120_000);
    expect(h.gaveUp).toEqual([{ id: 'gone', reason: 'ComfyUI no longer has the output files', at: 210_000 }]);
    expect(h.attempts.filter((a) => a.id === 'gone')).toHaveLength(3);
    // A Discord outage is not counted as lost: only the time limit ends it.
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(h.gaveUp).toHaveLength(1);
    expect([...h.pending]).toEqual(['outage']);
  });

  it('gives up any results still pending past the time limit, naming the last reason', async () => {
    const h = harness();
    h.pending.add('outage');
    retry = startDeliveryRetry(h.ctx, h.actions, { maxAgeMs: 3_600_000 });
    await vi.advanceTimersByTimeAsync(3_600_000 + 600_000);
    expect(h.gaveUp).toHaveLength(1);
    expect(h.gaveUp[0]).toMatchObject({ id: 'outage', reason: 'they were not taken within 1 hour (last: Discord did not take them)' });
    expect(h.gaveUp[0]!.at).toBeGreaterThanOrEqual(3_600_000);
    // Never tried after the limit: the give-up replaces the try.
    expect(h.attempts.every((a) => a.at < 3_600_000)).toBe(true);
    const count = h.attempts.length;
    await vi.advanceTimersByTimeAsync(24 * 3_600_000);
    expect(h.attempts).toHaveLength(count);
  });

  it('refuses delays that make no sense', () => {
    const h = harness();
    expect(() => startDeliveryRetry(h.ctx, h.actions, { firstDelayMs: 0 })).toThrow('delivery retry needs 0 < firstDelayMs <= maxDelayMs, got 0 and 600000');
    expect(() => startDeliveryRetry(h.ctx, h.actions, { firstDelayMs: 5000, maxDelayMs: 1000 })).toThrow('got 5000 and 1000');
    expect(() => startDeliveryRetry(h.ctx, h.actions, { maxLostTries: 0 })).toThrow('delivery retry needs maxLostTries >= 1 and maxAgeMs > 0, got 0 and 86400000');
  });
});
