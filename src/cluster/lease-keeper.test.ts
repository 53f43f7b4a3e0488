import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../config/logger.js';
import type { Lease, ProcessRow } from '../jobs/store-types.js';
import { LeaseKeeper } from './lease-keeper.js';

/** The lease row of a store, shared by the keepers of several "processes". */
function sharedLease(now: () => number) {
  let row: Lease | null = null;
  let down = false;
  const beats: ProcessRow[] = [];
  const storeFor = () => {
    let fence: number | null = null;
    return {
      acquireLease(holder: string, ttlMs: number): Lease | null {
        if (down) throw new Error('connection refused');
        if (row && row.expiresAt > now()) return null;
        row = { holder, fence: (row?.fence ?? 0) + 1, acquiredAt: now(), expiresAt: now() + ttlMs };
        fence = row.fence;
        return row;
      },
      renewLease(ttlMs: number): boolean {
        if (down) throw new Error('connection refused');
        if (!row || row.fence !== fence) return false;
        row.expiresAt = now() + ttlMs;
        return true;
      },
      releaseLease(): void {
        if (row && row.fence === fence) row.expiresAt = now();
      },
      heartbeat(p: ProcessRow): void {
        beats.push(p);
      },
    };
  };
  return { storeFor, beats, setDown: (value: boolean) => (down = value), get row() { return row; } };
}

const processRow = (id: string) => ({ id, host: 'vm', pid: 1, shards: 'all', startedAt: 0 });

describe('LeaseKeeper', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('makes exactly one process the leader; a standby takes over within the lease once the leader stops renewing', () => {
    const lease = sharedLease(Date.now);
    const a = new LeaseKeeper({ store: lease.storeFor(), process: processRow('a'), ttlMs: 3000, logger: silentLogger });
    const b = new LeaseKeeper({ store: lease.storeFor(), process: processRow('b'), ttlMs: 3000, logger: silentLogger });
    const gainedB = vi.fn();
    b.on('gained', gainedB);
    a.start();
    b.start();
    expect([a.role, b.role]).toEqual(['leader', 'standby']);
    vi.advanceTimersByTime(10_000);
    expect([a.role, b.role]).toEqual(['leader', 'standby']);
    expect(a.leaseAgeMs()).toBeLessThanOrEqual(1000);
    // a "dies" (SIGKILL): its timer stops without a word to the store; its lease runs out, b takes it with the next
    // fencing number.
    clearInterval((a as unknown as { timer: NodeJS.Timeout }).timer);
    const diedAt = Date.now();
    vi.advanceTimersByTime(4000);
    expect(b.role).toBe('leader');
    expect(gainedB).toHaveBeenCalledWith(expect.objectContaining({ holder: 'b', fence: 2 }));
    // Within the configured lease of the leader's death: its last renewal wrote the lease less one period.
    expect(b.leaderSince! - diedAt).toBeLessThanOrEqual(3000);
    expect(lease.beats.at(-1)).toMatchObject({ id: 'b', role: 'leader' });
    b.stop();
  });

  it('deposes a leader that cannot renew (the database unreachable) and one whose lease was taken', () => {
    const lease = sharedLease(Date.now);
    const a = new LeaseKeeper({ store: lease.storeFor(), process: processRow('a'), ttlMs: 3000, logger: silentLogger });
    const lost = vi.fn();
    a.on('lost', lost);
    a.start();
    lease.setDown(true);
    vi.advanceTimersByTime(1000);
    expect(a.role).toBe('standby');
    expect(lost).toHaveBeenCalledWith(expect.stringContaining('connection refused'));
    // Still down: it keeps trying without taking anything.
    vi.advanceTimersByTime(5000);
    expect(a.role).toBe('standby');
    lease.setDown(false);
    vi.advanceTimersByTime(1000);
    expect(a.role).toBe('leader');
    a.stop();
  });

  it('deposes a leader that was frozen past its lease without asking the database', () => {
    const lease = sharedLease(Date.now);
    const store = lease.storeFor();
    const renew = vi.spyOn(store, 'renewLease');
    const a = new LeaseKeeper({ store, process: processRow('a'), ttlMs: 3000, logger: silentLogger });
    const lost = vi.fn();
    a.on('lost', lost);
    a.start();
    // The clock jumps (SIGSTOP then SIGCONT): the next tick finds the lease older than its duration.
    vi.setSystemTime(Date.now() + 10_000);
    vi.advanceTimersByTime(1000);
    expect(lost).toHaveBeenCalledWith(expect.stringMatching(/not renewed for \d+ ms/));
    expect(renew).not.toHaveBeenCalled();
    a.stop();
  });
});
