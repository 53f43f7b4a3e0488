import { describe, expect, it } from 'vitest';
import { FairQueue, type QueueItem } from './fair-queue.js';

const item = (id: string, userId = id[0]!, priority = false): QueueItem => ({ id, userId, priority });

function drain(q: FairQueue<QueueItem>, eligible?: (i: QueueItem) => boolean): string[] {
  const out: string[] = [];
  for (let i = q.take(eligible); i; i = q.take(eligible)) out.push(i.id);
  return out;
}

describe('FairQueue', () => {
  it('serves users round-robin, not oldest job first', () => {
    const q = new FairQueue<QueueItem>();
    for (const id of ['a1', 'a2', 'a3', 'a4', 'b1', 'c1', 'b2']) q.push(item(id));
    expect(q.order().map((i) => i.id)).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3', 'a4']);
    expect(drain(q)).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3', 'a4']);
  });

  it('puts a newcomer ahead of a user just served', () => {
    const q = new FairQueue<QueueItem>();
    for (const id of ['a1', 'a2', 'a3']) q.push(item(id));
    expect(q.take()?.id).toBe('a1');
    q.push(item('b1'));
    expect(q.take()?.id).toBe('b1');
    expect(q.take()?.id).toBe('a2');
  });

  it('does not treat a user who submits one job at a time as new each time', () => {
    const q = new FairQueue<QueueItem>();
    q.push(item('a1'));
    q.push(item('b1'));
    q.push(item('b2'));
    expect(q.take()?.id).toBe('a1');
    expect(q.take()?.id).toBe('b1');
    q.push(item('a2'));
    expect(q.take()?.id).toBe('a2');
    q.push(item('a3'));
    expect(q.take()?.id).toBe('b2');
  });

  it('serves priority users first, fairly among themselves', () => {
    const q = new FairQueue<QueueItem>();
    q.push(item('a1'));
    q.push(item('p1', 'p', true));
    q.push(item('p2', 'p', true));
    q.push(item('v1', 'v', true));
    expect(drain(q)).toEqual(['p1', 'v1', 'p2', 'a1']);
  });

  it('serves jobs put back at the front before everyone', () => {
    const q = new FairQueue<QueueItem>();
    q.push(item('p1', 'p', true));
    q.pushFront(item('x1'));
    expect(q.order().map((i) => i.id)).toEqual(['x1', 'p1']);
  });

  it('skips jobs nobody can take now without losing their turn', () => {
    const q = new FairQueue<QueueItem>();
    for (const id of ['a1', 'a2', 'b1']) q.push(item(id));
    expect(q.take((i) => i.id !== 'a1')?.id).toBe('a2');
    expect(drain(q)).toEqual(['b1', 'a1']);
  });

  it('predicts exactly the order repeated takes give, and leaves the queue untouched', () => {
    // A small deterministic generator: queues with priority users, users served before, and jobs put back.
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor(seed / 65536) % n;
    };
    for (let round = 0; round < 30; round += 1) {
      const q = new FairQueue<QueueItem>();
      const users = 1 + random(12);
      for (let i = 0; i < 80; i += 1) {
        const user = `u${random(users)}`;
        const id = `${round}-${i}`;
        const roll = random(10);
        if (roll === 0) q.pushFront(item(id, user));
        else q.push(item(id, user, user === 'u0' || roll === 1));
        if (random(4) === 0) q.take();
      }
      const predicted = q.order().map((i) => i.id);
      expect(q.order().map((i) => i.id)).toEqual(predicted);
      expect(drain(q)).toEqual(predicted);
    }
  });

  it('removes a job by id and reports an unknown id', () => {
    const q = new FairQueue<QueueItem>();
    q.push(item('a1'));
    q.pushFront(item('z1'));
    expect(q.remove('a1')?.id).toBe('a1');
    expect(q.remove('z1')?.id).toBe('z1');
    expect(q.remove('nope')).toBeUndefined();
    expect(q.size).toBe(0);
  });
});
