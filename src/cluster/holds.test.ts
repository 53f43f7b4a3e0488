// Holds across processes on one real store (SQLite here; the store's own tests cover PostgreSQL): what one
// process sets, another's scheduler obeys once it syncs (a leader on the wake, a standby before it answers), each
// change applied once; one process alone keeps the operators' holds in memory as before.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger, type Logger } from '../config/logger.js';
import { openJobStore, type JobStore } from '../jobs/store.js';
import { UnavailableError } from '../scheduler/errors.js';
import { setup, spec } from '../../test/scheduler/helpers.js';
import { tempDataDir } from '../../test/store/helpers.js';
import { localHolds, sharedHolds } from './holds.js';
import { HOLDS_WAKE } from './wakes.js';

let stores: JobStore[] = [];
afterEach(() => {
  for (const store of stores) store.close();
  stores = [];
});

/** Two processes' stores on one database. */
function twoStores(): [JobStore, JobStore] {
  const dataDir = tempDataDir();
  const pair: [JobStore, JobStore] = [openJobStore({ dataDir }), openJobStore({ dataDir })];
  stores.push(...pair);
  return pair;
}

function refusalOf(fn: () => unknown): UnavailableError {
  try {
    fn();
  } catch (error) {
    if (error instanceof UnavailableError) return error;
    throw error;
  }
  throw new Error('expected an UnavailableError, but nothing was thrown');
}

describe('shared holds (several processes)', () => {
  it("pauses the leader's queue from a standby: written, the leader woken, obeyed on its sync; resumed the same way", () => {
    const [standbyStore, leaderStore] = twoStores();
    const wake = vi.spyOn(standbyStore, 'wake');
    const leader = setup();
    const standby = sharedHolds(standbyStore, setup().scheduler, silentLogger);
    const leaderHolds = sharedHolds(leaderStore, leader.scheduler, silentLogger);

    standby.set({ kind: 'bot' }, 'paused');
    expect(wake).toHaveBeenCalledWith(HOLDS_WAKE);
    expect(leaderHolds.sync().bot).toBe('paused');
    const job = leader.scheduler.submit(spec('alice'));
    expect(job.state).toBe('queued');

    standby.set({ kind: 'bot' }, null);
    expect(job.state).toBe('queued');
    leaderHolds.sync();
    expect(job.state).toBe('dispatched');
  });

  it("refuses on a standby what the leader would refuse: the bot draining, or the member's server draining", () => {
    const [standbyStore, otherStore] = twoStores();
    const standby = setup();
    const holds = sharedHolds(standbyStore, standby.scheduler, silentLogger);
    const operator = sharedHolds(otherStore, setup().scheduler, silentLogger);

    operator.set({ kind: 'guild', guildId: 'g1' }, 'draining');
    holds.sync();
    expect(refusalOf(() => standby.scheduler.check(spec('alice'))).message).toBe("this server's admins have stopped taking new jobs for now; try again later");
    expect(standby.scheduler.check(spec('bob', { owner: { userId: 'bob', guildId: 'g2', roles: [] } }))).toBe('fast');

    operator.set({ kind: 'guild', guildId: 'g1' }, null);
    operator.set({ kind: 'bot' }, 'draining');
    holds.sync();
    expect(refusalOf(() => standby.scheduler.check(spec('alice'))).message).toBe('the bot is not taking new jobs right now; try again later');
    // The server's hold lives in its settings, as with one process.
    expect(otherStore.guildSettings('g1').queue).toBe('open');
  });

  it('applies each change once, however often the holds are read', () => {
    const [store] = twoStores();
    const { scheduler } = setup();
    const drainBackend = vi.spyOn(scheduler, 'drainBackend');
    const resumeBackend = vi.spyOn(scheduler, 'resumeBackend');
    const drain = vi.spyOn(scheduler, 'drain');
    const holds = sharedHolds(store, scheduler, silentLogger);
    holds.set({ kind: 'backend', name: 'gpu1' }, 'draining');
    holds.set({ kind: 'bot' }, 'draining');
    for (let i = 0; i < 3; i++) holds.sync();
    expect(drainBackend).toHaveBeenCalledTimes(1);
    expect(drain).toHaveBeenCalledTimes(1);
    holds.set({ kind: 'backend', name: 'gpu1' }, null);
    holds.sync();
    expect(resumeBackend).toHaveBeenCalledTimes(1);
    expect(holds.sync()).toEqual({ bot: 'draining', backends: new Map(), guilds: new Map() });
  });

  it("logs a drain's end where jobs ran, not on a standby whose scheduler is empty", async () => {
    const [leaderStore, standbyStore] = twoStores();
    const leaderInfo = vi.fn();
    const standbyInfo = vi.fn();
    const leader = setup();
    const leaderHolds = sharedHolds(leaderStore, leader.scheduler, { ...silentLogger, info: leaderInfo } as unknown as Logger);
    const standbyHolds = sharedHolds(standbyStore, setup().scheduler, { ...silentLogger, info: standbyInfo } as unknown as Logger);
    leader.scheduler.submit(spec('alice'));
    standbyHolds.set({ kind: 'bot' }, 'draining');
    leaderHolds.sync();
    (await leader.gpu.running(0)).succeed();
    // Resolves after the drain the hold started (its waiters are settled in order).
    await leader.scheduler.drain();
    expect(leaderInfo).toHaveBeenCalledWith('queue drained');
    expect(standbyInfo).not.toHaveBeenCalledWith('queue drained');
  });

  it("skips, with a warning, a hold on a backend this process's configuration lacks", () => {
    const [store] = twoStores();
    const warn = vi.fn();
    const logger = { ...silentLogger, warn, info: vi.fn() } as unknown as Logger;
    store.setHold({ kind: 'backend', name: 'elsewhere' }, 'paused');
    store.setHold({ kind: 'backend', name: 'gpu1' }, 'paused');
    const { scheduler } = setup();
    sharedHolds(store, scheduler, logger);
    expect(warn).toHaveBeenCalledWith({ backend: 'elsewhere', hold: 'paused' }, 'a hold names a backend this process does not have; ignored');
    // The hold it knows still applies: nothing goes to gpu1.
    expect(scheduler.submit(spec('alice')).state).toBe('queued');
  });
});

it("reports a server whose settings cannot be read once, and holds nothing of it", () => {
  // What the store hands back for a server whose stored settings fail their schema (test/store covers the reading).
  const broken = { guildId: 'g1', error: new Error('invalid stored settings of guild g1: spoilerResults: expected boolean') };
  const reading = {
    holds: () => ({ bot: null, backends: new Map(), guilds: new Map(), unreadable: [broken] }),
    setHold: vi.fn(),
    wake: vi.fn(),
    setGuildSettings: vi.fn(),
  };
  const error = vi.fn();
  const holds = sharedHolds(reading, setup().scheduler, { ...silentLogger, error } as unknown as Logger);
  holds.sync();
  holds.sync();
  expect(error).toHaveBeenCalledTimes(1);
  expect(error).toHaveBeenCalledWith({ err: broken.error, guild: 'g1' }, "could not read a server's settings; its queue is open");
  expect(holds.sync().guilds.size).toBe(0);
});

describe('local holds (one process)', () => {
  it("starts with the servers' holds from their settings and keeps the operators' in memory only", () => {
    const [store] = twoStores();
    store.setGuildSettings('g1', { queue: 'paused' });
    const { scheduler } = setup();
    const holds = localHolds(store, scheduler, silentLogger);
    expect(scheduler.guildHold('g1')).toBe('paused');
    holds.set({ kind: 'bot' }, 'paused');
    holds.set({ kind: 'guild', guildId: 'g2' }, 'draining');
    expect(holds.sync()).toEqual({ bot: 'paused', backends: new Map(), guilds: new Map([['g1', 'paused'], ['g2', 'draining']]) });
    expect(store.guildSettings('g2').queue).toBe('draining');
    expect(store.holds().bot).toBeNull();
  });
});
