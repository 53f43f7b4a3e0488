// Fair share by GPU time on the real scheduler (instant backends, manual clock): random arrivals and costs.
import { describe, expect, it } from 'vitest';
import { DecayedUsage, shareWeight } from '../../src/scheduler/fair-share.js';
import { BackendDouble, output } from './backend-double.js';
import { label, setup, spec } from './helpers.js';
import { simulate, type SimJob, type SimRecord } from './share-sim.js';

function generator(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor(seed / 65536) % n;
  };
}

function gpuByUser(records: SimRecord[], until = Infinity): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of records) if (r.endedAt <= until) out.set(r.userId, (out.get(r.userId) ?? 0) + r.gpuMs);
  return out;
}

describe('DecayedUsage', () => {
  it('halves every half-life, takes charges given late in time order, and forgets what has decayed away', () => {
    const u = new DecayedUsage<string>(1_000);
    u.add('a', 800, 0);
    expect(u.at('a', 1_000)).toBeCloseTo(400);
    u.add('a', 800, 500); // a charge at an earlier time than one already there: decays from its own time
    u.add('a', -200, 1_000);
    expect(u.at('a', 2_000)).toBeCloseTo((800 * 0.25 + 800 * 2 ** -1.5) - 100, 5);
    expect(u.at('a', 40_000)).toBeLessThan(1e-6);
    u.add('a', 0, 40_000);
    expect(u.size).toBe(0);
    expect(() => new DecayedUsage(0)).toThrow(/half-life/);
  });
});

describe('share weight', () => {
  it('is the largest weight among the roles that carry one; priority roles count as 10; else 1', () => {
    expect(shareWeight([], {}, [])).toBe(1);
    expect(shareWeight(['r1', 'r2'], { r1: 2, r2: 3 }, [])).toBe(3);
    expect(shareWeight(['guest'], { guest: 0.5 }, [])).toBe(0.5);
    expect(shareWeight(['vip', 'x'], { x: 2 }, ['vip'])).toBe(10);
    expect(shareWeight(['vip'], { vip: 4 }, ['vip'])).toBe(4);
  });
});

describe('fair share by GPU time', () => {
  it('gives a heavy and a light user equal GPU time at equal demand by count', async () => {
    const jobs: SimJob[] = [];
    for (let i = 0; i < 40; i += 1) {
      jobs.push({ userId: 'heavy', guildId: 'g', at: 0, runMs: 60_000 });
      jobs.push({ userId: 'light', guildId: 'g', at: 0, runMs: 5_000 });
    }
    const fair = await simulate({ backends: 1, jobs });
    // While both still wait (the heavy user's backlog outlasts the light one's), GPU time is near equal.
    const lightDone = Math.max(...fair.filter((r) => r.userId === 'light').map((r) => r.endedAt));
    const used = gpuByUser(fair, lightDone);
    expect(used.get('light')! / used.get('heavy')!).toBeGreaterThan(0.8);
    const turns = await simulate({ backends: 1, jobs, scheduler: { fairBy: 'turns' } });
    const rrLightDone = Math.max(...turns.filter((r) => r.userId === 'light').map((r) => r.endedAt));
    const rr = gpuByUser(turns, rrLightDone);
    expect(rr.get('light')! / rr.get('heavy')!).toBeLessThan(0.2); // what round-robin by count gives
  });

  it("puts a new user's first job behind at most one job per backend of a heavy user", async () => {
    const random = generator(3);
    for (let round = 0; round < 10; round += 1) {
      const backends = 1 + random(4);
      const jobs: SimJob[] = [];
      for (let i = 0; i < 30; i += 1) jobs.push({ userId: 'heavy', guildId: 'g', at: 0, runMs: 30_000 + random(60_000) });
      const newcomerAt = 1 + random(200_000);
      jobs.push({ userId: 'new', guildId: 'g', at: newcomerAt, runMs: 5_000 });
      const records = await simulate({ backends, jobs, scheduler: { limits: { perUserRunning: backends, perUserQueued: 100, minIntervalSeconds: 0 } } });
      const first = records.find((r) => r.userId === 'new')!;
      const heavyAhead = records.filter((r) => r.userId === 'heavy' && r.at <= first.at && r.dispatchedAt > first.at && r.dispatchedAt <= first.dispatchedAt);
      expect(heavyAhead.length, `round ${round}`).toBeLessThanOrEqual(backends);
    }
  });

  it('is starvation-free under random arrivals and costs (property)', async () => {
    const random = generator(17);
    for (let round = 0; round < 6; round += 1) {
      const users = 3 + random(6);
      const backends = 1 + random(3);
      const jobs: SimJob[] = [];
      // Each user submits at random times jobs of their own typical cost (1 s to 60 s), in two servers.
      for (let u = 0; u < users; u += 1) {
        const typical = 1_000 + random(59_000);
        let at = random(10_000);
        for (let i = 0; i < 25; i += 1) {
          jobs.push({ userId: `u${u}`, guildId: `g${u % 2}`, at, runMs: typical / 2 + random(typical) });
          at += random(30_000);
        }
      }
      const records = await simulate({ backends, jobs });
      expect(records.every((r) => Number.isFinite(r.endedAt))).toBe(true);
      // No job waits longer than the whole backlog of the others: each of them can pass it only while their
      // usage ÷ weight is below its owner's, and every dispatch raises it.
      for (const r of records) {
        const others = records.filter((o) => o.userId !== r.userId && o.at <= r.dispatchedAt).length;
        expect(r.dispatchesWaited, `round ${round}`).toBeLessThanOrEqual(others + backends);
      }
    }
  });

  it('is stable: backlogged users of random costs share the GPU evenly, and by weight (property)', async () => {
    const random = generator(29);
    for (let round = 0; round < 6; round += 1) {
      const users = 2 + random(5);
      const backends = 1 + random(3);
      const jobs: SimJob[] = [];
      for (let u = 0; u < users; u += 1) {
        const typical = 1_000 + random(59_000);
        for (let i = 0; i < 60; i += 1) {
          jobs.push({ userId: `u${u}`, guildId: 'g', at: 0, runMs: typical / 2 + random(typical), roles: u === 0 ? ['double'] : [] });
        }
      }
      const records = await simulate({ backends, jobs, scheduler: { roleWeights: { double: 2 } } });
      // Until the first user's backlog has all been dispatched, every user is backlogged.
      const cutoff = Math.min(...Array.from({ length: users }, (_, u) => Math.max(...records.filter((r) => r.userId === `u${u}`).map((r) => r.dispatchedAt))));
      const used = gpuByUser(records, cutoff);
      const perWeight = Array.from({ length: users }, (_, u) => (used.get(`u${u}`) ?? 0) / (u === 0 ? 2 : 1));
      // Shares differ by at most about one job per user (costs up to 90 s) against totals of many minutes.
      expect(Math.min(...perWeight) / Math.max(...perWeight), `round ${round}`).toBeGreaterThan(0.7);
    }
  });

  it("puts nobody behind for the bot's downtime: a restored user's jobs keep their turns after a restart", async () => {
    // The SIGKILL suite's hang with fair share on: a run in flight at the kill ended while the bot was down; its
    // owner was charged from its start to when the restarted bot found it ended, the whole downtime, and their
    // jobs then waited behind everyone's (until the queue limit refused their next one).
    const gpu = new BackendDouble('gpu1');
    const { scheduler, clock } = setup({ backends: [gpu] });
    const startedAt = clock.now() - 600_000;
    const job = (user: string, n: number) => spec(user, { params: { label: `${user}${n}` } });
    const [adopted] = scheduler.restore({
      inFlight: [{ spec: job('ann', 0), backend: 'gpu1', promptId: 'p-ann', attempt: 1, dispatchedAt: startedAt, startedAt }],
      queued: [job('ann', 1), job('bob', 1), job('cat', 1), job('ann', 2), job('bob', 2), job('cat', 2)],
    });
    (await gpu.running(0)).end({ type: 'done', outputs: [output('ann0')], executedUntil: clock.now() });
    await adopted!.done;
    const order: string[] = [];
    for (let i = 1; i <= 6; i += 1) {
      const run = await gpu.running(i);
      order.push(label(run));
      run.start();
      clock.advance(1_000);
      run.end({ type: 'done', outputs: [output(label(run))], executedUntil: clock.now() });
    }
    // Equal jobs of equal users: one each, then one each again.
    expect(new Set(order.slice(0, 3))).toEqual(new Set(['ann1', 'bob1', 'cat1']));
    expect(new Set(order.slice(3))).toEqual(new Set(['ann2', 'bob2', 'cat2']));
  });
});
