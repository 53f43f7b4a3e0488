// Cancel requests in jobs' rows, on both engines: any process records a member's Cancel on an unfinished job
// (compare-and-set: the first request stands, a finished job takes none), whatever lease it holds or lost, and
// the leader reads back what it still has to carry out.
import { describe, expect, it } from 'vitest';
import { FencedError } from '../../src/jobs/store.js';
import { ENGINES } from './engines.js';
import { manualClock, newJob, openStore, tempDataDir } from './helpers.js';

describe.each(ENGINES)('cancel requests on $name', (engine) => {
  function setup() {
    const dataDir = tempDataDir();
    const clock = manualClock();
    const store = openStore(engine, { dataDir, clock });
    return { store, clock, dataDir };
  }

  it('records who asked, as a moderator or not, and when, once; the first request stands', () => {
    const { store, clock, dataDir } = setup();
    store.insertJob(newJob('j1'));
    expect(store.get('j1')?.cancelRequest).toBeNull();
    expect(store.requestCancel('j1', { userId: 'mod-7', isModerator: true })).toEqual({ recorded: true });
    const at = clock.now();
    clock.advance(1_000);
    expect(store.requestCancel('j1', { userId: 'user-1', isModerator: false })).toEqual({ recorded: false, reason: 'already-requested' });
    expect(store.get('j1')?.cancelRequest).toEqual({ userId: 'mod-7', isModerator: true, at });
    // The request is the row's: a restart (another process) reads it back, and the job's own writes keep it.
    expect(store.transition('j1', ['queued'], 'running')).toBe(true);
    const reopened = openStore(engine, { dataDir, clock });
    expect(reopened.get('j1')).toMatchObject({ state: 'running', cancelRequest: { userId: 'mod-7', isModerator: true, at } });
  });

  it('refuses a job that finished or does not exist, and writes nothing', () => {
    const { store } = setup();
    store.insertJob(newJob('done'));
    store.transition('done', ['queued'], 'succeeded');
    expect(store.requestCancel('done', { userId: 'user-1', isModerator: false })).toEqual({ recorded: false, reason: 'finished' });
    expect(store.get('done')?.cancelRequest).toBeNull();
    expect(store.requestCancel('nope', { userId: 'user-1', isModerator: false })).toEqual({ recorded: false, reason: 'not-found' });
  });

  it("lists the unfinished jobs with a request, oldest request first, until they end", () => {
    const { store, clock } = setup();
    for (const id of ['a', 'b', 'c', 'd']) store.insertJob(newJob(id));
    store.transition('c', ['queued'], 'dispatched');
    store.requestCancel('c', { userId: 'user-1', isModerator: false });
    clock.advance(10);
    store.requestCancel('a', { userId: 'user-1', isModerator: false });
    expect(store.cancelRequested().map((r) => r.id)).toEqual(['c', 'a']);
    expect(store.transition('c', ['dispatched'], 'cancelled')).toBe(true);
    expect(store.cancelRequested().map((r) => r.id)).toEqual(['a']);
  });

  it("records /cancel on every unfinished job of the member, keeping earlier requests, and returns them all", () => {
    const { store, clock } = setup();
    store.insertJob(newJob('mine-queued'));
    store.insertJob(newJob('mine-running'));
    store.transition('mine-running', ['queued'], 'running');
    store.insertJob(newJob('mine-done'));
    store.transition('mine-done', ['queued'], 'failed', { error: 'boom' });
    store.insertJob(newJob('theirs', { ownerId: 'user-2' }));
    store.requestCancel('mine-running', { userId: 'mod-7', isModerator: true });
    const earlier = clock.now();
    clock.advance(500);
    expect(store.requestCancelsOf('user-1', { userId: 'user-1', isModerator: false }).sort()).toEqual(['mine-queued', 'mine-running']);
    expect(store.get('mine-queued')?.cancelRequest).toEqual({ userId: 'user-1', isModerator: false, at: clock.now() });
    expect(store.get('mine-running')?.cancelRequest).toEqual({ userId: 'mod-7', isModerator: true, at: earlier });
    expect(store.get('mine-done')?.cancelRequest).toBeNull();
    expect(store.get('theirs')?.cancelRequest).toBeNull();
    expect(store.requestCancelsOf('user-3', { userId: 'user-3', isModerator: false })).toEqual([]);
  });

  it("is a member's request, not the leader's write: a process whose lease was taken over still records it", () => {
    const { store: old, clock, dataDir } = setup();
    const next = openStore(engine, { dataDir, clock });
    old.acquireLease('host-a', 1_000);
    old.insertJob(newJob('j1'));
    clock.advance(1_000);
    next.acquireLease('host-b', 1_000);
    expect(() => old.transition('j1', ['queued'], 'cancelled')).toThrow(FencedError);
    expect(old.requestCancel('j1', { userId: 'user-1', isModerator: false })).toEqual({ recorded: true });
    expect(next.cancelRequested().map((r) => r.id)).toEqual(['j1']);
  });

  it('keeps a request whole: the database refuses a half-written one', () => {
    const { store, dataDir } = setup();
    store.insertJob(newJob('j1'));
    expect(() => engine.raw(dataDir, "UPDATE jobs SET cancel_user = 'user-1' WHERE id = 'j1'")).toThrow(/constraint/i);
    expect(() => engine.raw(dataDir, "UPDATE jobs SET cancel_user = 'u', cancel_moderator = 2, cancel_at = 1 WHERE id = 'j1'")).toThrow(/constraint/i);
    expect(store.get('j1')?.cancelRequest).toBeNull();
  });
});
