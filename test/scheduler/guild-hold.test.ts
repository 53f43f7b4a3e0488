import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../src/scheduler/errors.js';
import { label, setup, spec } from './helpers.js';

const inGuild = (user: string, guildId: string | null, tag: string) => spec(user, { owner: { userId: user, guildId, roles: [] }, params: { label: tag } });

describe("a server's pause and drain", () => {
  it('a paused guild keeps its jobs queued while other guilds (and DMs) are dispatched; resume lets them run', async () => {
    const { scheduler, gpu } = setup();
    scheduler.holdGuild('g1', 'paused');
    const held = scheduler.submit(inGuild('a', 'g1', 'a1'));
    scheduler.submit(inGuild('b', 'g2', 'b1'));
    scheduler.submit(inGuild('c', null, 'c1'));
    const order: string[] = [];
    for (let i = 0; i < 2; i += 1) {
      const run = await gpu.running(i);
      order.push(label(run));
      run.succeed();
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['b1', 'c1']);
    expect(held.state).toBe('queued');
    expect(gpu.runs).toHaveLength(2);
    expect(scheduler.guildHold('g1')).toBe('paused');

    scheduler.holdGuild('g1', null);
    expect(label(await gpu.running(2))).toBe('a1');
    expect(scheduler.guildHold('g1')).toBeNull();
  });

  it("a draining guild's new jobs are refused with a reason; its queued jobs still run and other guilds still submit", async () => {
    const { scheduler, gpu } = setup();
    scheduler.submit(inGuild('a', 'g1', 'a1'));
    scheduler.submit(inGuild('a2', 'g1', 'a2'));
    scheduler.holdGuild('g1', 'draining');
    expect(() => scheduler.submit(inGuild('a', 'g1', 'a3'))).toThrow(UnavailableError);
    expect(() => scheduler.submit(inGuild('a', 'g1', 'a3'))).toThrow("this server's admins have stopped taking new jobs");
    scheduler.submit(inGuild('b', 'g2', 'b1'));
    const order: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const run = await gpu.running(i);
      order.push(label(run));
      run.succeed();
    }
    // Servers take turns, so g2's job goes between g1's two: draining held back none of g1's queued jobs.
    expect(order).toEqual(['a1', 'b1', 'a2']);
  });
});

describe("a paused server's place in line", () => {
  it("its jobs wait behind every other server's and count in no one's ETA; resume puts them back in turn", () => {
    const { scheduler } = setup();
    scheduler.submit(inGuild('r', 'g0', 'r1')); // takes the only slot
    scheduler.holdGuild('g1', 'paused');
    const held = scheduler.submit(inGuild('a', 'g1', 'a1'));
    const other = scheduler.submit(inGuild('b', 'g2', 'b1'));
    expect(scheduler.position(other.id)).toMatchObject({ global: 0, held: false });
    expect(scheduler.position(held.id)).toMatchObject({ global: 1, held: true, eta: null });

    scheduler.holdGuild('g1', null);
    expect(scheduler.position(held.id)).toMatchObject({ global: 0, held: false });
    expect(scheduler.position(other.id)).toMatchObject({ global: 1, held: false });
  });
});
