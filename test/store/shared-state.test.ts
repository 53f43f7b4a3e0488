// The state several processes share besides the jobs, on both engines: the operators' holds (any process sets
// them, every process reads them), the servers holding their queue (found in one query), and the leader's view
// of the queue (written by the lease holder only, fenced, and refused from a deposed one).
import { describe, expect, it } from 'vitest';
import { FencedError, StoreError, type JobStore, type LeaderView } from '../../src/jobs/store.js';
import { ENGINES } from './engines.js';
import { processesOn } from './helpers.js';

const TTL = 10_000;
const VIEW: LeaderView = {
  waiting: [{ id: 'j2', global: 0, etaAt: 1_000_123, held: false }, { id: 'j3', global: 1, etaAt: null, held: true }],
  running: [{ id: 'j1', since: 999_000 }],
  backends: [{ name: 'gpu1', up: true }, { name: 'gpu2', up: false }],
};

describe.each(ENGINES)('shared holds and the leader view on $name', (engine) => {
  function twoProcesses() {
    const { stores: [a, b], ...rest } = processesOn(engine, 2);
    return { a: a!, b: b!, ...rest };
  }

  it("keeps the operators' holds for every process: set, changed and lifted one scope at a time", () => {
    const { a, b } = twoProcesses();
    expect(b.holds()).toEqual({ bot: null, backends: new Map(), guilds: new Map(), unreadable: [] });
    a.setHold({ kind: 'bot' }, 'paused');
    b.setHold({ kind: 'backend', name: 'gpu:1' }, 'draining');
    a.setHold({ kind: 'backend', name: 'gpu2' }, 'paused');
    expect(b.holds()).toMatchObject({ bot: 'paused', backends: new Map([['gpu2', 'paused'], ['gpu:1', 'draining']]) });
    b.setHold({ kind: 'bot' }, 'draining');
    a.setHold({ kind: 'backend', name: 'gpu2' }, null);
    // Lifting a hold that is not there is no error.
    a.setHold({ kind: 'backend', name: 'never-held' }, null);
    expect(a.holds()).toMatchObject({ bot: 'draining', backends: new Map([['gpu:1', 'draining']]) });
  });

  it("reads the servers' holds from their settings with the operators', and no server that merely mentions the words", () => {
    const { a, b } = twoProcesses();
    a.setGuildSettings('1', { queue: 'paused' });
    a.setGuildSettings('2', { queue: 'draining' });
    a.setGuildSettings('3', { blockedWords: ['"queue":"paused"'] });
    b.setGuildSettings('4', { queue: 'paused' });
    b.setGuildSettings('4', { queue: 'open' });
    a.setHold({ kind: 'bot' }, 'paused');
    expect(b.holds()).toEqual({ bot: 'paused', backends: new Map(), guilds: new Map([['1', 'paused'], ['2', 'draining']]), unreadable: [] });
  });

  it("lists a server whose settings cannot be read apart, holding nothing, and reads the others", () => {
    const { a, b, dataDir } = twoProcesses();
    a.setGuildSettings('1', { queue: 'paused' });
    a.setGuildSettings('2', { queue: 'draining' });
    engine.raw(dataDir, `UPDATE guild_settings SET settings = '{"queue":"paused","spoilerResults":"yes"}' WHERE guild_id = '2'`);
    const holds = b.holds();
    expect(holds.guilds).toEqual(new Map([['1', 'paused']]));
    expect(holds.unreadable.map((u) => [u.guildId, u.error.message])).toEqual([['2', expect.stringContaining('invalid stored settings of guild 2: spoilerResults')]]);
  });

  it("keeps the leader's last view with its fencing number and time; a standby cannot write one", () => {
    const { a, b, clock } = twoProcesses();
    expect(b.publishedView()).toBeNull();
    expect(() => b.publishView(VIEW)).toThrow(StoreError);
    const lease = a.acquireLease('leader-a', TTL)!;
    a.publishView(VIEW);
    expect(b.publishedView()).toEqual({ view: VIEW, fence: lease.fence, publishedAt: clock.now() });
    clock.advance(1_500);
    a.publishView({ ...VIEW, waiting: [] });
    expect(b.publishedView()).toEqual({ view: { ...VIEW, waiting: [] }, fence: lease.fence, publishedAt: clock.now() });
  });

  it("refuses a deposed leader's view and its holds, and keeps the new leader's", () => {
    const { a, b, clock } = twoProcesses();
    a.acquireLease('leader-a', TTL);
    a.publishView(VIEW);
    clock.advance(TTL);
    const next = b.acquireLease('leader-b', TTL)!;
    b.publishView({ ...VIEW, running: [] });
    expect(() => a.publishView(VIEW)).toThrow(FencedError);
    expect(() => a.setHold({ kind: 'bot' }, 'paused')).toThrow(FencedError);
    expect(a.publishedView()).toMatchObject({ view: { running: [] }, fence: next.fence });
    expect(a.holds().bot).toBeNull();
  });

  it("reports a view it cannot read with what is wrong, not half of it", () => {
    const { a, b, dataDir } = twoProcesses();
    a.acquireLease('leader-a', TTL);
    a.publishView(VIEW);
    engine.raw(dataDir, `UPDATE leader_view SET view = '{"waiting":[],"running":[]}'`);
    expect(() => b.publishedView()).toThrow("invalid leader's published view: backends:");
  });
});
