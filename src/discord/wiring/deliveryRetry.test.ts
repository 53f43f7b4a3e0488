import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../config/logger.js';
import type { JobRow } from '../../jobs/store-types.js';
import { startDeliveryRetry, type DeliveryRetry } from './deliveryRetry.js';

/** A store whose pending deliveries are the ids in `pending`; a delivery that works removes its id. */
function harness(options: { works?: (id: string) => boolean } = {}) {
  const pending = new Set<string>();
  const delivering = new Set<string>();
  const attempts: { id: string; at: number }[] = [];
  const store = { pendingDeliveries: () => [...pending].map((id) => ({ id }) as JobRow) } as never;
  const deliver = async (row: JobRow) => {
    attempts.push({ id: row.id, at: Date.now() });
    if (options.works?.(row.id)) pending.delete(row.id);
  };
  return { pending, delivering, attempts, ctx: { store, delivering, logger: silentLogger }, deliver };
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
    retry = startDeliveryRetry(h.ctx, h.deliver);
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
    retry = startDeliveryRetry(h.ctx, h.deliver);
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
    retry = startDeliveryRetry(h.ctx, h.deliver);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(h.attempts.map((a) => a.id)).toEqual(['idle']);
  });

  it('goes on with the next job when one delivery throws', async () => {
    const h = harness({ works: () => true });
    h.pending.add('broken');
    h.pending.add('fine');
    const deliver = async (row: JobRow) => {
      if (row.id === 'broken') throw new Error('backend gone');
      await h.deliver(row);
    };
    retry = startDeliveryRetry(h.ctx, deliver);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(h.attempts.map((a) => a.id)).toEqual(['fine']);
    expect([...h.pending]).toEqual(['broken']);
  });

  it('retries nothing once stopped (shutdown)', async () => {
    const h = harness();
    h.pending.add('job-1');
    retry = startDeliveryRetry(h.ctx, h.deliver);
    retry.stop();
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(h.attempts).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('refuses delays that make no sense', () => {
    const h = harness();
    expect(() => startDeliveryRetry(h.ctx, h.deliver, { firstDelayMs: 0 })).toThrow('delivery retry needs 0 < firstDelayMs <= maxDelayMs, got 0 and 600000');
    expect(() => startDeliveryRetry(h.ctx, h.deliver, { firstDelayMs: 5000, maxDelayMs: 1000 })).toThrow('got 5000 and 1000');
  });
});
