// The queue source seam: the leader's first-hand snapshot, the view it publishes from it, and a standby's
// snapshot from the store's rows plus that view — the same jobs in the same places, so /queue on a standby
// renders what it would on the leader.
import { afterEach, describe, expect, it } from 'vitest';
import { openJobStore, type JobStore } from '../jobs/store.js';
import { BackendDouble } from '../../test/scheduler/backend-double.js';
import { setup, spec } from '../../test/scheduler/helpers.js';
import { newJob, tempDataDir } from '../../test/store/helpers.js';
import { leaderAwareQueue, leaderViewOf, localQueue, storeQueue, STALE_VIEW_MS, viewAge, type QueueSource } from './job-views.js';

let stores: JobStore[] = [];
afterEach(() => {
  for (const store of stores) store.close();
  stores = [];
});

/** A leader with one job run before (so estimates exist), one running and two waiting. */
async function leaderWithQueue() {
  const gpu1 = new BackendDouble('gpu1');
  const gpu2 = new BackendDouble('gpu2');
  gpu2.healthy = false;
  const { scheduler, clock } = setup({ backends: [gpu1, gpu2], limits: { perUserRunning: 5 } });
  const first = scheduler.submit(spec('alice', { id: 'j0' }));
  const run = await gpu1.running(0);
  run.start();
  clock.advance(10_000);
  run.succeed();
  await first.done;
  for (const [id, user] of [['j1', 'alice'], ['j2', 'bob'], ['j3', 'carol']] as const) scheduler.submit(spec(user, { id }));
  (await gpu1.running(1)).start();
  clock.advance(2_000);
  return { scheduler, clock, backends: [gpu1, gpu2] };
}

describe('queue sources', () => {
  it("gives the leader's jobs first hand: running since when, waiting in which place and until when", async () => {
    const { scheduler, clock, backends } = await leaderWithQueue();
    const snapshot = localQueue(scheduler, backends, () => clock.now()).snapshot();
    const positions = scheduler.positions();
    expect(snapshot.origin).toEqual({ kind: 'local' });
    expect(snapshot.backendsUp).toEqual(new Map([['gpu1', true], ['gpu2', false]]));
    expect(snapshot.jobs.map((j) => [j.id, j.state])).toEqual([['j1', 'running'], ['j2', 'queued'], ['j3', 'queued']]);
    expect(snapshot.jobs[0]!.since).toBe(scheduler.get('j1')!.data.startedAt);
    const eta = positions.get('j2')!.eta;
    expect(eta).not.toBeNull();
    expect(snapshot.jobs[1]!.place).toEqual({ global: 0, etaAt: clock.now() + eta!, held: false });
    expect(snapshot.jobs[2]!.place).toMatchObject({ global: 1, held: false });
  });

  it("shows a standby the same jobs in the same places from the store's rows and the published view", async () => {
    const { scheduler, clock, backends } = await leaderWithQueue();
    const local = localQueue(scheduler, backends, () => clock.now());
    const dataDir = tempDataDir();
    const leaderStore = openJobStore({ dataDir, clock });
    const standbyStore = openJobStore({ dataDir, clock });
    stores.push(leaderStore, standbyStore);
    for (const job of scheduler.jobs()) {
      // Rows in the order the jobs came, as their interactions would have written them.
      clock.advance(1);
      leaderStore.insertJob(newJob(job.id, { ownerId: job.owner.userId, guildId: job.owner.guildId, command: job.command }));
      if (job.state !== 'queued') leaderStore.transition(job.id, ['queued'], 'running', { startedAt: 1 });
    }
    const standby = storeQueue(standbyStore);
    // Before any leader published: the rows, no places, and it says so.
    const before = standby.snapshot();
    expect(before.origin).toEqual({ kind: 'leader', publishedAt: null });
    expect(before.jobs.map((j) => j.place)).toEqual([null, null, null]);
    expect(before.jobs[0]!.since).toBe(1);

    leaderStore.acquireLease('leader', 10_000);
    leaderStore.publishView(leaderViewOf(local.snapshot()));
    const after = standby.snapshot();
    const first = local.snapshot();
    expect(after.jobs).toEqual(first.jobs);
    expect(after.backendsUp).toEqual(first.backendsUp);
    expect(after.origin).toEqual({ kind: 'leader', publishedAt: clock.now() });
    // A job admitted after the view: listed, its place not known yet.
    standbyStore.insertJob(newJob('j4', { ownerId: 'dave' }));
    expect(standby.snapshot().jobs.at(-1)).toMatchObject({ id: 'j4', state: 'queued', place: null });
  });

  it('switches between first hand and the store as leadership comes and goes', () => {
    const source = (name: string): QueueSource => ({ snapshot: () => ({ jobs: [], backendsUp: new Map([[name, true]]), origin: { kind: 'local' } }) });
    let leading = false;
    const queue = leaderAwareQueue(source('local'), source('store'), () => leading);
    expect([...queue.snapshot().backendsUp.keys()]).toEqual(['store']);
    leading = true;
    expect([...queue.snapshot().backendsUp.keys()]).toEqual(['local']);
  });

  it("says how old a second-hand view is only once it is stale, and when there is none", () => {
    expect(viewAge({ kind: 'local' }, 1e6)).toBeNull();
    expect(viewAge({ kind: 'leader', publishedAt: null }, 1e6)).toBe('none');
    expect(viewAge({ kind: 'leader', publishedAt: 1e6 - STALE_VIEW_MS }, 1e6)).toBeNull();
    expect(viewAge({ kind: 'leader', publishedAt: 1e6 - STALE_VIEW_MS - 1 }, 1e6)).toBe(STALE_VIEW_MS + 1);
  });
});
