// Results are not kept pending forever: recovery fails jobs whose results are past the delivery time limit, and
// a job given up is no longer a pending delivery, keeps no interaction token, and is pruned like any failed job.
import { afterEach, describe, expect, it } from 'vitest';
import { failUndeliverable } from '../../src/jobs/deliveryLimit.js';
import { recoverJobs } from '../../src/jobs/recovery.js';
import type { JobStore } from '../../src/jobs/store.js';
import { ENGINES } from './engines.js';
import { manualClock, newJob, tempDataDir } from './helpers.js';

const HOUR = 3_600_000;
let open: JobStore[] = [];
afterEach(() => {
  for (const store of open) store.close();
  open = [];
});

describe.each(ENGINES)('on $name', (engine) => {
  function setup() {
    const clock = manualClock();
    const store = engine.open({ dataDir: tempDataDir(), clock });
    open.push(store);
    return { store, clock };
  }

  function succeeded(store: JobStore, id: string, clock: { now(): number }) {
    store.insertJob(newJob(id, { interaction: { token: `token-${id}`, expiresAt: clock.now() + 900_000 } }));
    store.transition(id, ['queued'], 'running');
    store.transition(id, ['running'], 'succeeded');
  }

  const noScheduler = { restore: () => [], holdDispatch: () => undefined, releaseDispatch: () => undefined };

  describe('the delivery time limit at start-up', () => {
    it('fails results pending longer than the limit and hands back the others', () => {
      const { store, clock } = setup();
      succeeded(store, 'old', clock);
      clock.advance(20 * HOUR);
      succeeded(store, 'fresh', clock);
      clock.advance(5 * HOUR);

      const recovery = recoverJobs({ store, scheduler: noScheduler, commands: () => undefined, maxTries: 3, deliveryMaxAgeMs: 24 * HOUR, now: clock.now });
      expect(recovery.undelivered.map((r) => r.id)).toEqual(['fresh']);
      expect(recovery.failed.map((f) => [f.row.id, f.error])).toEqual([['old', 'its results could not be delivered: they were not taken within 24 hours']]);
      expect(store.get('old')).toMatchObject({ state: 'failed', delivery: 'none', error: 'its results could not be delivered: they were not taken within 24 hours' });
      expect(store.pendingDeliveries().map((r) => r.id)).toEqual(['fresh']);
    });

    it('keeps every pending result without a limit (as before)', () => {
      const { store, clock } = setup();
      succeeded(store, 'old', clock);
      clock.advance(1000 * HOUR);
      const recovery = recoverJobs({ store, scheduler: noScheduler, commands: () => undefined, maxTries: 3, now: clock.now });
      expect(recovery.undelivered.map((r) => r.id)).toEqual(['old']);
    });
  });

  describe('failUndeliverable', () => {
    it('ends the pending delivery once, drops the token, and leaves the job to retention', () => {
      const { store, clock } = setup();
      succeeded(store, 'j', clock);
      expect(store.prune(30)).toBe(0);
      expect(failUndeliverable(store, { id: 'j' }, 'ComfyUI no longer has the output files')).toBe(
        'its results could not be delivered: ComfyUI no longer has the output files',
      );
      expect(failUndeliverable(store, { id: 'j' }, 'again')).toBeNull();
      expect(store.get('j')).toMatchObject({ state: 'failed', delivery: 'none', interaction: null });
      expect(store.pendingDeliveries()).toEqual([]);
      clock.advance(31 * 24 * HOUR);
      expect(store.prune(30)).toBe(1);
      expect(store.get('j')).toBeNull();
    });

    it('leaves a delivered job alone', () => {
      const { store, clock } = setup();
      succeeded(store, 'j', clock);
      store.recordDelivery('j', { messageId: 'm', files: ['a.png'] });
      expect(failUndeliverable(store, { id: 'j' }, 'late')).toBeNull();
    });
  });
});
