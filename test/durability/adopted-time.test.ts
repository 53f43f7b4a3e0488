// What recovery hands the scheduler for a job that was on a backend: the times its time limit counts from.
// The store keeps no dispatch time, so a run's start stands in for it, else the row's last write (never
// earlier than the dispatch, so a limit is never cut short).
import { afterEach, describe, expect, it } from 'vitest';
import { recoverJobs } from '../../src/jobs/recovery.js';
import { openJobStore, type JobStore } from '../../src/jobs/store.js';
import type { InFlightJob } from '../../src/jobs/adopter.js';
import { ManualClock } from '../scheduler/manual-clock.js';
import { sampler, tempDataDir } from './life.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0).reverse()) c();
});

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function world(): { store: JobStore; clock: ManualClock } {
  const data = tempDataDir();
  const clock = new ManualClock(T0);
  const store = openJobStore({ dataDir: data.dir, clock });
  cleanup.push(data.cleanup, () => store.close());
  return { store, clock };
}

function insert(store: JobStore, id: string): void {
  store.insertJob({ id, promptId: `prompt-${id}`, ownerId: 'ann', guildId: 'guild-1', channelId: 'c1', command: 'imagine', params: {}, workflow: sampler(1), backend: 'gpu1' });
}

/** The in-flight jobs recovery gives the scheduler. */
function adopted(store: JobStore): InFlightJob[] {
  let given: InFlightJob[] = [];
  recoverJobs({
    store,
    scheduler: {
      restore: (state) => {
        given = state.inFlight;
        return [];
      },
      holdDispatch: () => undefined,
      releaseDispatch: () => undefined,
    },
    commands: () => undefined,
    maxTries: 3,
  });
  return given;
}

describe('an adopted job’s time limit', () => {
  it('counts from when it started running', () => {
    const { store, clock } = world();
    insert(store, 'running');
    clock.advance(1_000);
    store.transition('running', ['queued'], 'dispatched', { backend: 'gpu1' });
    clock.advance(2_000);
    store.transition('running', ['dispatched'], 'running');
    clock.advance(60_000);
    store.updateJob('running', { messageId: 'm1' });
    expect(adopted(store)).toMatchObject([{ spec: { id: 'running' }, dispatchedAt: T0 + 3_000, startedAt: T0 + 3_000 }]);
  });

  it('counts from the row’s last write when it had not started', () => {
    const { store, clock } = world();
    insert(store, 'sent');
    clock.advance(1_000);
    store.transition('sent', ['queued'], 'dispatched', { backend: 'gpu1' });
    expect(adopted(store)).toMatchObject([{ spec: { id: 'sent' }, dispatchedAt: T0 + 1_000, startedAt: null }]);
  });
});
