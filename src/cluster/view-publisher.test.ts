// The leader's view is written when it changed (at most once a tick), again when it is getting old, never for
// an estimate that only moved by milliseconds, and a refused write (a deposed leader) is logged, not thrown.
import { describe, expect, it, vi } from 'vitest';
import { silentLogger, type Logger } from '../config/logger.js';
import { FencedError } from '../jobs/store.js';
import type { LiveJobView, QueueSnapshot } from './job-views.js';
import { REPUBLISH_MS, ViewPublisher } from './view-publisher.js';

function setUp() {
  let now = 1_000_000;
  let jobs: LiveJobView[] = [];
  const snapshot = (): QueueSnapshot => ({ jobs, backendsUp: new Map([['gpu1', true]]), origin: { kind: 'local' } });
  const publishView = vi.fn();
  const warn = vi.fn();
  const publisher = new ViewPublisher({
    source: { snapshot },
    store: { publishView },
    now: () => now,
    logger: { ...silentLogger, warn } as unknown as Logger,
  });
  const waiting = (id: string, global: number, etaAt: number | null): LiveJobView => ({
    id,
    ownerId: 'u',
    guildId: null,
    command: 'imagine',
    state: 'queued',
    place: { global, etaAt, held: false },
    since: null,
  });
  return {
    publisher,
    publishView,
    warn,
    waiting,
    setJobs: (next: LiveJobView[]) => (jobs = next),
    advance: (ms: number) => (now += ms),
  };
}

describe('ViewPublisher', () => {
  it('publishes at once, then only on a change, and again when the last one is getting old', () => {
    const { publisher, publishView, waiting, setJobs, advance } = setUp();
    expect(publisher.tick()).toBe(true);
    expect(publishView).toHaveBeenLastCalledWith({ waiting: [], running: [], backends: [{ name: 'gpu1', up: true }] });
    advance(1_000);
    expect(publisher.tick()).toBe(false);
    setJobs([waiting('j1', 0, 1_030_000)]);
    expect(publisher.tick()).toBe(true);
    expect(publishView).toHaveBeenLastCalledWith(expect.objectContaining({ waiting: [{ id: 'j1', global: 0, etaAt: 1_030_000, held: false }] }));
    // An estimate that moved within the same second is no news.
    setJobs([waiting('j1', 0, 1_030_200)]);
    advance(1_000);
    expect(publisher.tick()).toBe(false);
    advance(REPUBLISH_MS - 1_000);
    expect(publisher.tick()).toBe(true);
    expect(publishView).toHaveBeenCalledTimes(3);
  });

  it('logs a refused write and tries again on the next tick', () => {
    const { publisher, publishView, warn } = setUp();
    publishView.mockImplementationOnce(() => {
      throw new FencedError(1, 2);
    });
    expect(publisher.tick()).toBe(false);
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ err: expect.any(FencedError) }), "could not publish the leader's view of the queue");
    expect(publisher.tick()).toBe(true);
  });
});
