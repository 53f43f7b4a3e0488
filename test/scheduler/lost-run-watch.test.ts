import { describe, expect, it } from 'vitest';
import type { RunOutcome } from '../../src/scheduler/backend.js';
import { LostRunWatch, type WatchedRun } from '../../src/scheduler/lost-run-watch.js';
import { ManualClock } from './manual-clock.js';

function setup() {
  const clock = new ManualClock();
  const cancelled: string[] = [];
  const health: boolean[] = [];
  const watch = new LostRunWatch({
    clock,
    lostAfterMs: 30_000,
    cancelAbandoned: (id) => cancelled.push(id),
    onHealth: (healthy) => health.push(healthy),
  });
  const run = (promptId: string) => {
    const ends: RunOutcome[] = [];
    const r: WatchedRun & { ends: RunOutcome[] } = { promptId, ends, end: (o) => (ends.push(o), watch.release(r)) };
    watch.hold(r);
    return r;
  };
  return { clock, watch, cancelled, health, run };
}

describe('LostRunWatch', () => {
  it('reports only changes of health', () => {
    const { watch, health } = setup();
    watch.setHealthy(true);
    watch.setHealthy(true);
    watch.setHealthy(false);
    expect(health).toEqual([true, false]);
    expect(watch.healthy).toBe(false);
  });

  it('ends held runs as lost after lostAfterMs down, then cancels them when the backend is back', () => {
    const { clock, watch, cancelled, run } = setup();
    watch.setHealthy(true);
    const a = run('a');
    watch.setHealthy(false);
    clock.advance(29_999);
    expect(a.ends).toEqual([]);
    clock.advance(1);
    expect(a.ends).toEqual([{ type: 'lost', message: 'it has been unreachable for 30 s' }]);
    expect(watch.holds(a)).toBe(false);
    expect(cancelled).toEqual([]);
    watch.setHealthy(true);
    expect(cancelled).toEqual(['a']);
    watch.setHealthy(false);
    watch.setHealthy(true);
    expect(cancelled).toEqual(['a']);
  });

  it('declares nothing lost when the backend comes back in time, or after stop', () => {
    const { clock, watch, run } = setup();
    watch.setHealthy(true);
    const a = run('a');
    watch.setHealthy(false);
    clock.advance(10_000);
    watch.setHealthy(true);
    clock.advance(60_000);
    expect(a.ends).toEqual([]);
    watch.setHealthy(false);
    watch.stop();
    expect(clock.pending).toBe(0);
  });

  it('cancels a prompt abandoned late at once while up, on return while down', () => {
    const { watch, cancelled } = setup();
    watch.setHealthy(true);
    watch.abandon('x');
    expect(cancelled).toEqual(['x']);
    watch.setHealthy(false);
    watch.abandon('y');
    expect(cancelled).toEqual(['x']);
    watch.setHealthy(true);
    expect(cancelled).toEqual(['x', 'y']);
  });
});
