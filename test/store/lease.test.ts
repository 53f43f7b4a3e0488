// The leader lease and its fencing number, on both engines: a second process takes the lease only once the
// first one's has expired (manual clock), and from then on every write of the old holder is refused, whatever
// it is, with nothing written.
import { describe, expect, it } from 'vitest';
import { FencedError } from '../../src/jobs/store.js';
import { ENGINES } from './engines.js';
import { manualClock, newJob, openStore, processesOn, tempDataDir } from './helpers.js';

const TTL = 10_000;

describe.each(ENGINES)('the leader lease on $name', (engine) => {
  /** Two processes' stores on one database, on one manual clock. */
  function twoProcesses() {
    const { stores: [old, next], ...rest } = processesOn(engine, 2);
    return { old: old!, next: next!, ...rest };
  }

  it('is taken by a second process only after it expired, with a newer fencing number', () => {
    const { old, next, clock } = twoProcesses();
    expect(old.currentLease()).toBeNull();
    const first = old.acquireLease('host-a', TTL);
    expect(first).toEqual({ holder: 'host-a', fence: 1, acquiredAt: clock.now(), expiresAt: clock.now() + TTL });
    expect(next.acquireLease('host-b', TTL)).toBeNull();
    clock.advance(TTL - 1);
    expect(old.renewLease(TTL)).toBe(true);
    clock.advance(TTL - 1);
    expect(next.acquireLease('host-b', TTL)).toBeNull();
    clock.advance(1);
    expect(next.acquireLease('host-b', TTL)).toMatchObject({ holder: 'host-b', fence: 2 });
    expect(old.currentLease()).toMatchObject({ holder: 'host-b', fence: 2 });
    expect(old.renewLease(TTL)).toBe(false);
    expect(() => old.acquireLease('host-a', 0)).toThrow('a lease needs a positive duration, got 0 ms');
  });

  it('refuses every write of the old holder once the lease was taken over, and writes nothing', () => {
    const { old, next, clock, dataDir } = twoProcesses();
    old.acquireLease('host-a', TTL);
    old.insertJob(newJob('j1'));
    expect(old.transition('j1', ['queued'], 'running')).toBe(true);
    clock.advance(TTL);
    next.acquireLease('host-b', TTL);

    const refused = (write: () => unknown) => {
      let error: unknown;
      try {
        write();
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(FencedError);
      expect(error).toMatchObject({ fence: 1, current: 2 });
    };
    refused(() => old.transition('j1', ['running'], 'succeeded'));
    refused(() => old.updateJob('j1', { error: 'late' }));
    refused(() => old.insertJob(newJob('j2')));
    refused(() => old.admitJob(newJob('j3'), { userLive: 10 }));
    refused(() => old.recordDelivery('j1', { messageId: 'm', files: ['a.png'] }));
    refused(() => old.addUsage('user-1'));
    refused(() => old.setGuildSettings('1', { spoilerResults: true }));
    refused(() => old.prune(1));
    expect(() => old.transition('j1', ['running'], 'failed')).toThrow(
      "write refused: this process's leader lease (fencing number 1) was taken over (now 2)",
    );
    expect(next.get('j1')).toMatchObject({ state: 'running', error: null, deliveries: [] });
    expect(next.get('j2')).toBeNull();
    expect(next.get('j3')).toBeNull();
    expect(next.usage('user-1')).toBe(0);

    // The new holder writes as usual; a store that never took the lease is not fenced.
    expect(next.transition('j1', ['running'], 'succeeded')).toBe(true);
    const standby = openStore(engine, { dataDir, clock });
    standby.recordDelivery('j1', { messageId: 'm', files: ['a.png'] });
    expect(standby.get('j1')?.delivery).toBe('delivered');
  });

  it("lets exactly one process claim the telling of a lost leader, once per lease", () => {
    const { old, next, clock, dataDir } = twoProcesses();
    const third = openStore(engine, { dataDir, clock });
    const lease = old.acquireLease('host-a', TTL)!;
    // Both standbys see the leader late at about the same time: one of them tells the members.
    expect(next.claimLeaderLoss(lease.fence, 'host-b')).toBe(true);
    expect(third.claimLeaderLoss(lease.fence, 'host-c')).toBe(false);
    expect(next.claimLeaderLoss(lease.fence, 'host-b')).toBe(false);
    // The next leader's loss is a new claim; the older claims are dropped with it.
    clock.advance(TTL);
    const taken = third.acquireLease('host-c', TTL)!;
    expect(taken.fence).toBe(lease.fence + 1);
    expect(next.claimLeaderLoss(taken.fence, 'host-b')).toBe(true);
    expect(engine.raw(dataDir, 'SELECT fence FROM leader_loss_claims').map((r) => Number(r.fence))).toEqual([taken.fence]);
  });

  it('is given up at once on release, so a standby need not wait', () => {
    const { old, next } = twoProcesses();
    old.acquireLease('host-a', TTL);
    old.releaseLease();
    expect(next.acquireLease('host-b', TTL)).toMatchObject({ fence: 2 });
  });
});

describe.each(ENGINES)('the processes table on $name', (engine) => {
  it("keeps each process's latest role and heartbeat, and forgets those silent too long", () => {
    const dataDir = tempDataDir();
    const clock = manualClock();
    const a = openStore(engine, { dataDir, clock });
    const b = openStore(engine, { dataDir, clock });
    try {
      const row = (id: string, role: 'leader' | 'standby') => ({ id, host: 'vm', pid: 7, shards: '0 of 2', role, startedAt: 1, heartbeatAt: clock.now() });
      a.heartbeat(row('a', 'standby'), 30_000);
      b.heartbeat(row('b', 'standby'), 30_000);
      clock.advance(1_000);
      a.heartbeat(row('a', 'leader'), 30_000);
      expect(b.processes().map((p) => [p.id, p.role, p.heartbeatAt])).toEqual([
        ['a', 'leader', clock.now()],
        ['b', 'standby', clock.now() - 1_000],
      ]);
      // b stops beating: a's next heartbeat past the window drops it.
      clock.advance(30_000);
      a.heartbeat(row('a', 'leader'), 30_000);
      expect(a.processes().map((p) => p.id)).toEqual(['a']);
      // Waking the leader is a NOTIFY on PostgreSQL and nothing on SQLite: either way it writes no row.
      a.wake('job:x');
    } finally {
      a.close();
      b.close();
    }
  });
});
