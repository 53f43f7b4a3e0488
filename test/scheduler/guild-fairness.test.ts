// Many servers, one bot: round-robin between servers before users, and the optional per-server caps on waiting
// and running jobs, through the real scheduler on scripted backends.
import { describe, expect, it } from 'vitest';
import type { JobSpec } from '../../src/jobs/job.js';
import { BackendDouble, type ScriptedRun } from './backend-double.js';
import { label, refusal, setup, spec } from './helpers.js';

function from(guildId: string | null, userId: string, tag: string): JobSpec {
  return spec(userId, { owner: { userId, guildId, roles: [] }, params: { label: tag } });
}

describe('fairness between servers', () => {
  it("serves another server's member before a crowded server's next job", async () => {
    const { scheduler, gpu } = setup();
    // Server A's four members fill the queue; server B's one member comes last.
    for (const user of ['a1', 'a2', 'a3', 'a4']) for (let i = 0; i < 3; i += 1) scheduler.submit(from('A', user, `${user}.${i}`));
    scheduler.submit(from('B', 'b1', 'b1.0'));
    scheduler.submit(from(null, 'dm', 'dm.0'));
    const order: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const run = await gpu.running(i);
      order.push(label(run));
      run.succeed();
    }
    expect(order).toEqual(['a1.0', 'b1.0', 'dm.0', 'a2.0', 'a3.0', 'a4.0']);
    expect(scheduler.position(scheduler.jobs().find((j) => j.spec.params?.label === 'a1.1')!.id)?.global).toBe(0);
  });

  it('gives the one job of a quiet server the next free slot when a server has a hundred waiting', async () => {
    const backends = [new BackendDouble('gpu1', { capacity: 2 }), new BackendDouble('gpu2')];
    const { scheduler } = setup({ backends, limits: { perUserQueued: 100, perUserRunning: 3 } });
    for (let i = 0; i < 100; i += 1) scheduler.submit(from('crowded', `u${i % 5}`, `c${i}`));
    const busy = [await backends[0]!.running(0), await backends[0]!.running(1), await backends[1]!.running(0)];
    const lone = scheduler.submit(from('quiet', 'q', 'lone'));
    expect(lone.state).toBe('queued');
    expect(scheduler.position(lone.id)?.global).toBe(0);
    busy[1]!.succeed();
    expect(label(await backends[0]!.running(2))).toBe('lone');
  });
});

describe('per-server caps', () => {
  it("refuses a server's job over its waiting cap in words, and takes other servers' jobs", async () => {
    const { scheduler, gpu, clock } = setup({ limits: { perGuildQueued: 2 } });
    const first = scheduler.submit(from('A', 'a1', 'first'));
    const run = await gpu.running(0);
    run.start();
    clock.advance(10_000);
    run.succeed();
    await first.done;
    // One run time is known now: the refusal can say when a slot should free up.
    scheduler.submit(from('A', 'a1', 'running'));
    (await gpu.running(1)).start();
    scheduler.submit(from('A', 'a2', 'w1'));
    scheduler.submit(from('A', 'a3', 'w2'));
    const e = refusal(() => scheduler.submit(from('A', 'a4', 'w3')));
    expect(e.limit).toBe('guildQueued');
    expect(e.message).toBe('This server already has 2 jobs waiting (the limit); wait for one to finish (expected around 12:00:20 UTC)');
    expect(e.retryAt).toEqual(new Date(clock.now() + 10_000));
    expect(() => scheduler.submit(from('B', 'b1', 'b'))).not.toThrow();
    expect(scheduler.jobs()).toHaveLength(4);
  });

  it('holds a server at its running cap without blocking the others, and lets it run again when a job ends', async () => {
    const backends = [new BackendDouble('gpu1'), new BackendDouble('gpu2'), new BackendDouble('gpu3')];
    const { scheduler } = setup({ backends, limits: { perGuildRunning: 1 } });
    scheduler.submit(from('A', 'a1', 'a1'));
    scheduler.submit(from('A', 'a2', 'a2'));
    scheduler.submit(from('B', 'b1', 'b1'));
    const running = () => backends.flatMap((b) => b.runs).map(label);
    const aRun = await backends[0]!.running(0);
    await backends[1]!.running(0);
    // Three free backends, but A may run one job at a time: a2 waits, b1 runs.
    expect(running()).toEqual(['a1', 'b1']);
    aRun.succeed();
    expect(label(await backends[0]!.running(1))).toBe('a2');
  });

  it('gives one server more through a guild override, and counts direct messages as one server', async () => {
    const { scheduler } = setup({
      limits: { perGuildQueued: 1 },
      limitOverrides: [{ guild: 'big', perGuildQueued: 3 }],
    });
    scheduler.submit(from('small', 's0', 'runs'));
    scheduler.submit(from('small', 's1', 'waits'));
    expect(refusal(() => scheduler.submit(from('small', 's2', 'x'))).message).toBe('This server already has 1 job waiting (the limit); wait for one to finish');
    for (let i = 0; i < 3; i += 1) scheduler.submit(from('big', `b${i}`, `b${i}`));
    expect(refusal(() => scheduler.submit(from('big', 'b9', 'x'))).message).toBe('This server already has 3 jobs waiting (the limit); wait for one to finish');
    scheduler.submit(from(null, 'd1', 'dm'));
    expect(refusal(() => scheduler.submit(from(null, 'd2', 'x'))).message).toBe(
      'Direct messages to the bot already have 1 job waiting (the limit); wait for one to finish',
    );
  });

  it('ignores a server’s own role limits for the server caps (they are the operator’s)', () => {
    const { scheduler } = setup({ limits: { perGuildQueued: 1 } });
    const member = { userId: 'm', guildId: 'A', roles: ['artist'] };
    // As the Discord layer passes a guild's role limits; a cap in them (which the settings schema refuses) is not applied.
    const roleLimits = [{ guild: 'A', role: 'artist', perGuildQueued: 50, perUserQueued: 10 }];
    scheduler.submit({ ...spec('m'), owner: member, limitOverrides: roleLimits });
    scheduler.submit({ ...spec('m'), owner: member, limitOverrides: roleLimits });
    expect(refusal(() => scheduler.submit({ ...spec('m'), owner: member, limitOverrides: roleLimits })).limit).toBe('guildQueued');
  });
});

describe('fairness between servers under random arrivals and run ends', () => {
  it('dispatches no server twice while another can run and waits, caps or not', async () => {
    let seed = 5;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor(seed / 65536) % n;
    };
    for (let round = 0; round < 6; round += 1) {
      const capped = round % 2 === 1;
      const backends = [new BackendDouble('gpu1', { capacity: 2 }), new BackendDouble('gpu2')];
      const { scheduler } = setup({ backends, limits: { perUserQueued: 1000, perUserRunning: 2, ...(capped ? { perGuildRunning: 2 } : {}) } });
      const guilds = ['g0', 'g1', 'g2', 'g3', null];
      const runs = () => backends.flatMap((b) => b.runs).filter((r) => r.phase !== 'ended');
      /** A server with a waiting job that it and its user have room to run (else it is passed over rightly). */
      const canRun = (guild: string | null) =>
        scheduler.jobs().some((job) => {
          if (job.state !== 'queued' || job.owner.guildId !== guild) return false;
          const running = runs();
          const ofUser = running.filter((r) => r.spec.owner.userId === job.owner.userId).length;
          const ofGuild = running.filter((r) => r.spec.owner.guildId === guild).length;
          return ofUser < 2 && (!capped || ofGuild < 2);
        });
      const dispatched: (string | null)[] = [];
      /** Each server able to run and waiting: the dispatches since it was. */
      const waitingSince = new Map<string | null, number>();
      const followed = new Set<ScriptedRun>();
      let n = 0;
      for (let step = 0; step < 150; step += 1) {
        const live = runs();
        if (random(2) === 0 || live.length === 0) {
          // g0 gets most of the jobs.
          const guild = random(3) === 0 ? guilds[random(guilds.length)]! : 'g0';
          scheduler.submit(from(guild, `${guild}-u${random(4)}`, `j${n++}`));
        } else {
          live[random(live.length)]!.succeed();
        }
        // Let the scheduler follow what it dispatched, then record the dispatches in order.
        await new Promise((resolve) => setImmediate(resolve));
        for (const run of backends.flatMap((b) => b.runs)) {
          if (followed.has(run)) continue;
          followed.add(run);
          dispatched.push(run.spec.owner.guildId);
        }
        for (const [guild, since] of waitingSince) {
          const served = dispatched.slice(since);
          const twice = served.find((g, i) => g !== guild && served.indexOf(g) !== i);
          expect(twice, `round ${round}: ${String(twice)} dispatched twice while ${String(guild)} waited`).toBeUndefined();
          if (served.includes(guild) || !canRun(guild)) waitingSince.delete(guild);
        }
        for (const guild of guilds) if (!waitingSince.has(guild) && canRun(guild)) waitingSince.set(guild, dispatched.length);
      }
      expect(dispatched.length).toBeGreaterThan(40);
      scheduler.close();
    }
  });
});
