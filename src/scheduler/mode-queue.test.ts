import { describe, expect, it } from 'vitest';
import type { JobMode } from '../jobs/job.js';
import type { Clock, TimerHandle } from './clock.js';
import { ModeQueue, type ModeItem } from './mode-queue.js';

/** A clock the test moves; its one pending timer fires when `advance` passes it. */
class TestClock implements Clock {
  current = 1_000;
  private timers = new Set<{ at: number; fn: () => void }>();
  now(): number {
    return this.current;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { at: this.current + ms, fn };
    this.timers.add(timer);
    return timer;
  }
  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as { at: number; fn: () => void });
  }
  advance(ms: number): void {
    this.current += ms;
    for (const t of [...this.timers].filter((x) => x.at <= this.current)) {
      this.timers.delete(t);
      t.fn();
    }
  }
  get pending(): number {
    return this.timers.size;
  }
}

const item = (id: string, mode: JobMode, notBefore = 0, userId = id[0]!): ModeItem => ({ id, userId, guildId: 'g', weight: 1, cost: 1, mode, notBefore });

function generator(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor(seed / 65536) % n;
  };
}

describe('ModeQueue', () => {
  it('serves every fast job before any relax job, and predicts that order', () => {
    const clock = new TestClock();
    const q = new ModeQueue<ModeItem>(undefined, clock, () => undefined);
    for (const i of [item('r1', 'relax'), item('a1', 'fast'), item('s1', 'relax'), item('b1', 'fast'), item('a2', 'fast')]) q.push(i);
    expect(q.order().map((i) => i.id)).toEqual(['a1', 'b1', 'a2', 'r1', 's1']);
    const taken: string[] = [];
    for (let i = q.take(); i; i = q.take()) taken.push(i.id);
    expect(taken).toEqual(['a1', 'b1', 'a2', 'r1', 's1']);
  });

  it('takes a relax job while fast jobs wait only if none of them could start (e.g. their owners are at their running limit)', () => {
    const q = new ModeQueue<ModeItem>(undefined, new TestClock(), () => undefined);
    q.push(item('a1', 'fast'));
    q.push(item('r1', 'relax'));
    expect(q.take((i) => i.userId !== 'a')?.id).toBe('r1');
    expect(q.take((i) => i.userId !== 'a')).toBeUndefined();
    expect(q.take()?.id).toBe('a1');
  });

  it('holds a relax job until its notBefore and wakes the scheduler then', () => {
    const clock = new TestClock();
    let woken = 0;
    const q = new ModeQueue<ModeItem>(undefined, clock, () => (woken += 1));
    q.push(item('r1', 'relax', clock.now() + 5_000));
    q.push(item('s1', 'relax', clock.now() + 2_000));
    expect(q.take()).toBeUndefined();
    clock.advance(2_000);
    expect(woken).toBe(1);
    expect(q.take()?.id).toBe('s1');
    expect(q.take()).toBeUndefined();
    clock.advance(3_000);
    expect(woken).toBe(2);
    expect(q.take()?.id).toBe('r1');
    expect(clock.pending).toBe(0);
    // close() clears a pending wake-up.
    q.push(item('t1', 'relax', clock.now() + 1_000));
    expect(q.remove('t1')?.id).toBe('t1');
    q.close();
    expect(clock.pending).toBe(0);
  });

  it('never takes a relax job while a fast job that could start waits (property, random arrivals and eligibility)', () => {
    const random = generator(41);
    for (let round = 0; round < 50; round += 1) {
      const clock = new TestClock();
      const q = new ModeQueue<ModeItem>(undefined, clock, () => undefined);
      const waiting = new Map<string, ModeItem>();
      const blocked = new Set<string>();
      for (let step = 0; step < 200; step += 1) {
        const action = random(4);
        if (action <= 1) {
          const mode: JobMode = random(2) === 0 ? 'fast' : 'relax';
          const it = item(`${'abcdef'[random(6)]}${round}-${step}`, mode, mode === 'relax' ? clock.now() + random(3) * 100 : 0);
          q.push(it);
          waiting.set(it.id, it);
        } else if (action === 2) {
          // Some users cannot start a job now (their running limit), at random.
          blocked.clear();
          for (const user of 'abcdef') if (random(3) === 0) blocked.add(user);
          clock.advance(random(2) * 100);
        } else {
          const eligible = (i: ModeItem) => !blocked.has(i.userId);
          const taken = q.take(eligible);
          const fastReady = [...waiting.values()].some((i) => i.mode === 'fast' && eligible(i));
          if (fastReady) expect(taken?.mode, `round ${round} step ${step}`).toBe('fast');
          if (taken) {
            expect(eligible(taken)).toBe(true);
            if (taken.mode === 'relax') expect(taken.notBefore).toBeLessThanOrEqual(clock.now());
            waiting.delete(taken.id);
          } else {
            expect([...waiting.values()].some((i) => eligible(i) && i.notBefore <= clock.now()), `round ${round} step ${step}`).toBe(false);
          }
        }
      }
    }
  });
});
