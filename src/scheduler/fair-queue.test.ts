import { describe, expect, it } from 'vitest';
import { FairQueue, type QueueItem } from './fair-queue.js';

/** A job of cost 1; a priority user's has the weight `priorityRoles` map to (10). */
const item = (id: string, userId = id[0]!, priority = false, guildId: string | null = 'g', cost = 1): QueueItem => ({
  id,
  userId,
  guildId,
  weight: priority ? 10 : 1,
  cost,
});

/** A queue whose usage grows by each taken job's cost, as the scheduler's does at dispatch (no decay). */
function queue(): FairQueue<QueueItem> {
  const servers = new Map<string | null, number>();
  const users = new Map<string, number>();
  const q = new FairQueue<QueueItem>({ server: (g) => servers.get(g) ?? 0, user: (u) => users.get(u) ?? 0 });
  const take = q.take.bind(q);
  q.take = (eligible) => {
    const taken = take(eligible);
    if (taken) {
      servers.set(taken.guildId, (servers.get(taken.guildId) ?? 0) + taken.cost);
      users.set(taken.userId, (users.get(taken.userId) ?? 0) + taken.cost);
    }
    return taken;
  };
  return q;
}

/** A small deterministic generator, so a failing case can be replayed. */
function generator(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor(seed / 65536) % n;
  };
}

function drain(q: FairQueue<QueueItem>, eligible?: (i: QueueItem) => boolean): string[] {
  const out: string[] = [];
  for (let i = q.take(eligible); i; i = q.take(eligible)) out.push(i.id);
  return out;
}

describe('FairQueue', () => {
  it('serves users round-robin, not oldest job first', () => {
    const q = queue();
    for (const id of ['a1', 'a2', 'a3', 'a4', 'b1', 'c1', 'b2']) q.push(item(id));
    expect(q.order().map((i) => i.id)).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3', 'a4']);
    expect(drain(q)).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3', 'a4']);
  });

  it('puts a newcomer ahead of a user just served', () => {
    const q = queue();
    for (const id of ['a1', 'a2', 'a3']) q.push(item(id));
    expect(q.take()?.id).toBe('a1');
    q.push(item('b1'));
    expect(q.take()?.id).toBe('b1');
    expect(q.take()?.id).toBe('a2');
  });

  it('does not treat a user who submits one job at a time as new each time', () => {
    const q = queue();
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
    const q = queue();
    q.push(item('a1'));
    q.push(item('p1', 'p', true));
    q.push(item('p2', 'p', true));
    q.push(item('v1', 'v', true));
    expect(drain(q)).toEqual(['p1', 'v1', 'p2', 'a1']);
  });

  it('serves jobs put back at the front before everyone', () => {
    const q = queue();
    q.push(item('p1', 'p', true));
    q.pushFront(item('x1'));
    expect(q.order().map((i) => i.id)).toEqual(['x1', 'p1']);
  });

  it('skips jobs nobody can take now without losing their turn', () => {
    const q = queue();
    for (const id of ['a1', 'a2', 'b1']) q.push(item(id));
    expect(q.take((i) => i.id !== 'a1')?.id).toBe('a2');
    expect(drain(q)).toEqual(['b1', 'a1']);
  });

  it('predicts exactly the order repeated takes give, and leaves the queue untouched', () => {
    // Queues with several servers and direct messages, a user in two servers, priority users, users served
    // before, and jobs put back.
    const random = generator(7);
    const guilds = ['g1', 'g2', 'g3', null];
    for (let round = 0; round < 30; round += 1) {
      const q = queue();
      const users = 1 + random(12);
      for (let i = 0; i < 80; i += 1) {
        // Users are per server here: order() scores a user waiting in two servers per server (see its comment).
        const guild = guilds[random(1 + (round % guilds.length))]!;
        const user = `${guild}:u${random(users)}`;
        const id = `${round}-${i}`;
        const roll = random(10);
        if (roll === 0) q.pushFront(item(id, user, false, guild));
        else q.push(item(id, user, user.endsWith(':u0') || roll === 1, guild, 1 + random(60)));
        if (random(4) === 0) q.take();
      }
      const predicted = q.order().map((i) => i.id);
      expect(q.order().map((i) => i.id)).toEqual(predicted);
      expect(drain(q)).toEqual(predicted);
    }
  });

  it('without usage (by turns), predicts the takes exactly, and costs never reorder users', () => {
    const random = generator(5);
    for (let round = 0; round < 20; round += 1) {
      const q = new FairQueue<QueueItem>();
      for (let i = 0; i < 60; i += 1) {
        const guild = ['g1', 'g2', null][random(3)]!;
        const user = `u${random(6)}`;
        if (random(10) === 0) q.pushFront(item(`${round}-${i}`, user, false, guild, 1 + random(60)));
        else q.push(item(`${round}-${i}`, user, user === 'u0', guild, 1 + random(60)));
        if (random(4) === 0) q.take();
      }
      const predicted = q.order().map((i) => i.id);
      expect(drain(q)).toEqual(predicted);
    }
    const q = new FairQueue<QueueItem>();
    q.push(item('a1', 'a', false, 'g', 60));
    q.push(item('b1', 'b', false, 'g', 5));
    expect(drain(q)).toEqual(['a1', 'b1']);
  });

  it('removes a job by id and reports an unknown id', () => {
    const q = queue();
    q.push(item('a1'));
    q.pushFront(item('z1'));
    expect(q.remove('a1')?.id).toBe('a1');
    expect(q.remove('z1')?.id).toBe('z1');
    expect(q.remove('nope')).toBeUndefined();
    expect(q.size).toBe(0);
  });

  it('serves servers round-robin before users, direct messages as one more server', () => {
    const q = queue();
    for (const id of ['a1', 'a2', 'a3', 'b1', 'b2']) q.push(item(id, id[0], false, 'big'));
    q.push(item('c1', 'c', false, 'small'));
    q.push(item('d1', 'd', false, null));
    q.push(item('e1', 'e', false, null));
    const expected = ['a1', 'c1', 'd1', 'b1', 'e1', 'a2', 'b2', 'a3'];
    expect(q.order().map((i) => i.id)).toEqual(expected);
    expect(drain(q)).toEqual(expected);
  });

  it("serves a server's one job within one turn of a server with a hundred waiting", () => {
    const q = queue();
    for (let i = 0; i < 100; i += 1) q.push(item(`a${i}`, `u${i % 7}`, false, 'crowded'));
    expect(q.take()?.id).toBe('a0');
    q.push(item('lone', 'x', false, 'quiet'));
    expect(q.order()[0]?.id).toBe('lone');
    expect(q.take()?.id).toBe('lone');
    // Even when the crowded server has never been served, the newcomer waits for at most one of its jobs.
    const fresh = queue();
    for (let i = 0; i < 100; i += 1) fresh.push(item(`a${i}`, `u${i % 7}`, false, 'crowded'));
    fresh.push(item('lone', 'x', false, 'quiet'));
    expect(drain(fresh).indexOf('lone')).toBeLessThanOrEqual(1);
  });

  it("does not let a server's user in another server skip the other server's turn", () => {
    const q = queue();
    q.push(item('a1', 'a', false, 'g1'));
    q.push(item('a2', 'a', false, 'g1'));
    q.push(item('a3', 'a', false, 'g2'));
    q.push(item('b1', 'b', false, 'g2'));
    // g2's turn comes right after a1; there b goes first, since a's usage (one job) counts in every server.
    expect(drain(q)).toEqual(['a1', 'b1', 'a2', 'a3']);
  });

  it('puts priority jobs of any server first, round-robin between servers', () => {
    const q = queue();
    q.push(item('a1', 'a', false, 'g1'));
    q.push(item('p1', 'p', true, 'g1'));
    q.push(item('p2', 'p', true, 'g1'));
    q.push(item('v1', 'v', true, 'g2'));
    q.push(item('v2', 'v', true, 'g2'));
    q.pushFront(item('x1', 'x', false, 'g3'));
    expect(q.order().map((i) => i.id)).toEqual(['x1', 'p1', 'v1', 'p2', 'v2', 'a1']);
    expect(drain(q)).toEqual(['x1', 'p1', 'v1', 'p2', 'v2', 'a1']);
  });

  it('without usage to go by, never lets a server wait while another is served twice, whatever arrives when (random arrivals)', () => {
    const random = generator(11);
    // Some jobs cannot run now (no backend can take them), as in dispatch: a server waits only with a job that can.
    const eligible = (i: QueueItem) => !i.id.endsWith('7');
    for (let round = 0; round < 25; round += 1) {
      const q = new FairQueue<QueueItem>();
      const guilds = 2 + random(5);
      /** For each waiting server: dispatches of each other server since it began waiting or was last served. */
      const servedSince = new Map<string, Map<string, number>>();
      let n = 0;
      for (let step = 0; step < 400; step += 1) {
        if (random(3) > 0) {
          // Arrivals are skewed: server g0 gets most of the jobs.
          const guild = `g${random(4) === 0 ? random(guilds) : 0}`;
          q.push(item(`${round}-${n++}`, `${guild}-u${random(5)}`, false, guild));
        } else {
          const taken = q.take(eligible);
          if (taken) {
            const guild = taken.guildId!;
            servedSince.delete(guild);
            for (const [waiting, counts] of servedSince) {
              const times = (counts.get(guild) ?? 0) + 1;
              counts.set(guild, times);
              expect(times, `${guild} served twice while ${waiting} waited`).toBeLessThanOrEqual(1);
            }
          }
        }
        const waiting = new Set(q.order().filter(eligible).map((i) => i.guildId!));
        for (const guild of servedSince.keys()) if (!waiting.has(guild)) servedSince.delete(guild);
        for (const guild of waiting) if (!servedSince.has(guild)) servedSince.set(guild, new Map());
      }
    }
  });
});
