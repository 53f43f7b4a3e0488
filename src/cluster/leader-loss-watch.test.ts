import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../config/logger.js';
import type { Lease, ProcessRow } from '../jobs/store-types.js';
import { watchLeaderLoss } from './leader-loss-watch.js';

const PERIOD = 1000;
const TTL = 9000;

/** A store's lease, processes and claims as three standbys see them. */
function world() {
  let lease: Lease = { holder: 'leader', fence: 4, acquiredAt: 0, expiresAt: Date.now() + TTL };
  const beats = new Map<string, number>([['leader', Date.now()]]);
  const claims = new Set<number>();
  const store = {
    currentLease: () => lease,
    processes: (): ProcessRow[] => [...beats].map(([id, heartbeatAt]) => ({ id, host: 'vm', pid: 1, shards: 'all', role: id === lease.holder ? 'leader' : 'standby', startedAt: 0, heartbeatAt })),
    claimLeaderLoss: (fence: number) => (claims.has(fence) ? false : (claims.add(fence), true)),
  };
  /** The leader renews and heartbeats, as its keeper does every period. */
  const renew = () => {
    lease = { ...lease, expiresAt: Date.now() + TTL };
    beats.set(lease.holder, Date.now());
  };
  const takeOver = (holder: string) => {
    lease = { holder, fence: lease.fence + 1, acquiredAt: Date.now(), expiresAt: Date.now() + TTL };
    beats.set(holder, Date.now());
  };
  return { store, renew, takeOver };
}

describe('watchLeaderLoss', () => {
  beforeEach(() => vi.useFakeTimers({ now: 5_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('has exactly one standby tell the cards once the leader is three periods late, with a deadline before the lease can pass on', () => {
    const w = world();
    const told: { by: string; deadline: number }[] = [];
    const stops = ['s1', 's2', 's3'].map((id) =>
      watchLeaderLoss({
        keeper: { role: 'standby', periodMs: PERIOD },
        store: w.store,
        processId: id,
        tell: (deadline) => {
          told.push({ by: id, deadline });
          return Promise.resolve(1);
        },
        logger: silentLogger,
      }),
    );
    // A leader renewing on time is never reported.
    for (let i = 0; i < 10; i += 1) {
      vi.advanceTimersByTime(PERIOD);
      w.renew();
    }
    expect(told).toEqual([]);
    const lastBeat = Date.now();
    const expiresAt = w.store.currentLease().expiresAt;
    vi.advanceTimersByTime(3 * PERIOD);
    expect(told).toEqual([]);
    vi.advanceTimersByTime(PERIOD / 2);
    expect(told).toHaveLength(1);
    expect(told[0]!.deadline).toBe(expiresAt - PERIOD);
    expect(Date.now() - lastBeat).toBeLessThanOrEqual(3 * PERIOD + PERIOD / 2);
    // Nobody tells again about the same lease, however long it stays silent.
    vi.advanceTimersByTime(4 * PERIOD);
    expect(told).toHaveLength(1);
    // A new leader, later lost too: told again, once.
    w.takeOver('s2');
    vi.advanceTimersByTime(2 * PERIOD);
    expect(told).toHaveLength(1);
    vi.advanceTimersByTime(2 * PERIOD);
    expect(told).toHaveLength(2);
    for (const stop of stops) stop();
  });

  it('says nothing once the lease is about to pass on, and never about itself while it leads', () => {
    const w = world();
    const tell = vi.fn(() => Promise.resolve(0));
    const keeper: { role: 'leader' | 'standby'; periodMs: number } = { role: 'standby', periodMs: PERIOD };
    // Started late: the leader is silent, but its lease expires within a period.
    vi.advanceTimersByTime(TTL - PERIOD);
    const stop = watchLeaderLoss({ keeper, store: w.store, processId: 's1', tell, logger: silentLogger });
    vi.advanceTimersByTime(3 * PERIOD);
    expect(tell).not.toHaveBeenCalled();
    stop();

    w.takeOver('s1');
    keeper.role = 'leader';
    const again = watchLeaderLoss({ keeper, store: w.store, processId: 's1', tell, logger: silentLogger });
    vi.advanceTimersByTime(6 * PERIOD);
    expect(tell).not.toHaveBeenCalled();
    again();
  });
});
