import Bottleneck from 'bottleneck';
import { describe, expect, it, vi } from 'vitest';
import { ChannelPacer, ChannelPacers, type EditRequest } from './channelPacer.js';
import { useFakeTimers } from '../../test/discord/fake-timers.js';

const start = useFakeTimers();

/** Calls acquire `count` times at once; records, in grant order, which caller got a slot and when (ms from start). */
function burst(pacer: ChannelPacer, count: number, label = '') {
  const grants: Array<{ caller: string; at: number }> = [];
  for (let i = 0; i < count; i += 1) {
    void pacer.acquire().then(() => grants.push({ caller: `${label}${i}`, at: Date.now() - start() }));
  }
  return grants;
}

function maxInAnyWindow(times: number[], windowMs: number): number {
  return Math.max(0, ...times.map((t) => times.filter((other) => other >= t && other < t + windowMs).length));
}

describe('ChannelPacer', () => {
  it('grants in arrival order', async () => {
    const pacer = new ChannelPacer({ maxEdits: 2, windowMs: 1000 });
    const grants = burst(pacer, 7);
    await vi.advanceTimersByTimeAsync(4000);
    expect(grants.map((g) => g.caller)).toEqual(['0', '1', '2', '3', '4', '5', '6']);
  });

  it('never grants more than maxEdits in any window, over a burst of 50 across many windows', async () => {
    const pacer = new ChannelPacer({ maxEdits: 4, windowMs: 5000 });
    const grants = burst(pacer, 50);
    expect(pacer.waiting).toBe(50);
    await vi.advanceTimersByTimeAsync(70_000);
    const times = grants.map((g) => g.at);
    expect(times).toHaveLength(50);
    expect(pacer.waiting).toBe(0);
    expect(maxInAnyWindow(times, 5000)).toBe(4);
    // A full window's worth goes out at once, and the 50 take about 50 / 4 windows, not longer.
    expect(times.slice(0, 4).every((t) => t < 100)).toBe(true);
    expect(times[49]).toBeLessThan(12 * 5000 + 100);
  });

  it('keeps the limit when callers trickle in while others wait', async () => {
    const pacer = new ChannelPacer({ maxEdits: 3, windowMs: 1000 });
    const times: number[] = [];
    for (let i = 0; i < 40; i += 1) {
      void pacer.acquire().then(() => times.push(Date.now()));
      await vi.advanceTimersByTimeAsync(137);
    }
    await vi.advanceTimersByTimeAsync(20_000);
    expect(times).toHaveLength(40);
    expect(maxInAnyWindow(times, 1000)).toBe(3);
  });

  it('holds every caller during a pause longer than the window, then resumes in order', async () => {
    const pacer = new ChannelPacer({ maxEdits: 2, windowMs: 1000 });
    pacer.pause(3500);
    const grants = burst(pacer, 4);
    await vi.advanceTimersByTimeAsync(3499);
    expect(grants).toEqual([]);
    expect(pacer.waiting).toBe(4);
    await vi.advanceTimersByTimeAsync(1);
    expect(grants).toEqual([
      { caller: '0', at: 3500 },
      { caller: '1', at: 3500 },
    ]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(grants.map((g) => g.caller)).toEqual(['0', '1', '2', '3']);
    expect(grants[2]?.at).toBeGreaterThanOrEqual(4500);
  });

  it('lets a second 429 during a pause push the deadline further, and never shortens it', async () => {
    const pacer = new ChannelPacer({ maxEdits: 4, windowMs: 1000 });
    pacer.pause(2000);
    const grants = burst(pacer, 1);
    await vi.advanceTimersByTimeAsync(1000);
    pacer.pause(3000);
    pacer.pause(10);
    await vi.advanceTimersByTimeAsync(2999);
    expect(grants).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(grants).toEqual([{ caller: '0', at: 4000 }]);
  });

  it('refuses nonsense limits and pauses with a clear message', () => {
    expect(() => new ChannelPacer({ maxEdits: 1.5 })).toThrow(/maxEdits must be a positive integer, got 1.5/);
    expect(() => new ChannelPacer({ windowMs: 0 })).toThrow(/windowMs must be a positive finite number, got 0/);
    expect(() => new ChannelPacer({ windowMs: Number.POSITIVE_INFINITY })).toThrow(/windowMs/);
    const pacer = new ChannelPacer();
    expect(() => pacer.pause(-1)).toThrow(/pause must be a non-negative finite number of ms, got -1/);
    expect(() => pacer.pause(Number.NaN)).toThrow(/got NaN/);
  });

  it('rejects with context when its limiter no longer takes work', async () => {
    const limiter = new Bottleneck({ maxConcurrent: 1 });
    const stopped = limiter.stop({ dropWaitingJobs: true });
    await vi.advanceTimersByTimeAsync(10);
    await stopped;
    const pacer = new ChannelPacer({}, () => limiter);
    const acquired = pacer.acquire();
    const outcome = expect(acquired).rejects.toThrow(/channel pacer could not queue an edit: .*stopped/);
    await vi.advanceTimersByTimeAsync(10);
    await outcome;
    expect(pacer.waiting).toBe(0);
  });
});

describe('ChannelPacers', () => {
  it('paces each channel on its own', async () => {
    const pacers = new ChannelPacers({ maxEdits: 2, windowMs: 1000 });
    pacers.for('c1').pause(5000);
    const c1 = burst(pacers.for('c1'), 3, 'a');
    const c2 = burst(pacers.for('c2'), 3, 'b');
    await vi.advanceTimersByTimeAsync(100);
    expect(c1).toEqual([]);
    expect(c2.map((g) => g.caller)).toEqual(['b0', 'b1']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(c2.map((g) => g.caller)).toEqual(['b0', 'b1', 'b2']);
    expect(c1).toEqual([]);
    expect(pacers.size).toBe(2);
  });

  it('shares one channel between every card that asks for it', async () => {
    const pacers = new ChannelPacers({ maxEdits: 3, windowMs: 1000 });
    const times: number[] = [];
    for (const card of ['x', 'y', 'z']) {
      for (let i = 0; i < 5; i += 1) void pacers.for('c1').acquire().then(() => times.push(Date.now()));
      expect(pacers.for('c1').maxEdits, card).toBe(3);
    }
    await vi.advanceTimersByTimeAsync(6000);
    expect(times).toHaveLength(15);
    expect(maxInAnyWindow(times, 1000)).toBe(3);
  });

  it('drops an idle channel after the group timeout, and a card still holding its pacer joins the new limiter', async () => {
    const pacers = new ChannelPacers({ maxEdits: 1, windowMs: 1000, idleMs: 10_000 });
    const old = pacers.for('c1');
    const granted = old.acquire();
    await vi.advanceTimersByTimeAsync(10);
    await granted;
    expect(pacers.size).toBe(1);
    await vi.advanceTimersByTimeAsync(9_000);
    expect(pacers.size).toBe(1);
    await vi.advanceTimersByTimeAsync(12_000);
    expect(pacers.size).toBe(0);
    const fresh = pacers.for('c1');
    expect(fresh).not.toBe(old);
    // The stale pacer and the fresh one draw from the same (new) limiter: still one edit per window in total.
    const times: number[] = [];
    for (const pacer of [old, fresh, old, fresh]) void pacer.acquire().then(() => times.push(Date.now()));
    await vi.advanceTimersByTimeAsync(5000);
    expect(times).toHaveLength(4);
    expect(maxInAnyWindow(times, 1000)).toBe(1);
    expect(pacers.size).toBe(1);
  });

  it('refuses an idle timeout that could drop a channel with callers still waiting', () => {
    expect(() => new ChannelPacers({ windowMs: 5000, idleMs: 5000 })).toThrow(/idleMs must be finite and longer than windowMs \(5000\), got 5000/);
    expect(() => new ChannelPacers({ maxEdits: 0 })).toThrow(/maxEdits/);
  });
});

describe('ChannelPacer urgency and buckets', () => {
  /** Requests one slot per entry, in order; records the labels in grant order. */
  function requests(pacer: ChannelPacer, entries: Array<[string, EditRequest]>) {
    const order: string[] = [];
    const turns = entries.map(([label, request]) => {
      const turn = pacer.request(request);
      void turn.granted.then(() => order.push(label));
      return turn;
    });
    return { order, turns };
  }

  it('serves final states first, then progress, then queue positions, each in arrival order', async () => {
    const pacer = new ChannelPacer({ maxEdits: 1, windowMs: 1000 });
    const { order } = requests(pacer, [
      ['busy', { urgency: 'progress' }],
      ['q1', { urgency: 'queued' }],
      ['p1', { urgency: 'progress' }],
      ['q2', { urgency: 'queued' }],
      ['f1', { urgency: 'final' }],
      ['p2', { urgency: 'progress' }],
      ['f2', { urgency: 'final' }],
    ]);
    await vi.advanceTimersByTimeAsync(7000);
    expect(order).toEqual(['busy', 'f1', 'f2', 'p1', 'p2', 'q1', 'q2']);
  });

  it('never drops a waiting final, even behind a full window of others', async () => {
    const pacer = new ChannelPacer({ maxEdits: 2, windowMs: 1000 });
    const { order } = requests(pacer, [
      ...Array.from({ length: 6 }, (_, i): [string, EditRequest] => [`p${i}`, { urgency: 'progress' }]),
      ['final', { urgency: 'final' }],
    ]);
    await vi.advanceTimersByTimeAsync(999);
    expect(order).toEqual(['p0', 'p1']);
    await vi.advanceTimersByTimeAsync(100);
    // The first slot that frees goes to the final state, ahead of four earlier progress edits.
    expect(order).toEqual(['p0', 'p1', 'final', 'p2']);
  });

  it('moves a promoted request ahead of less urgent ones without spending a second slot', async () => {
    const pacer = new ChannelPacer({ maxEdits: 1, windowMs: 1000 });
    const { order, turns } = requests(pacer, [
      ['busy', { urgency: 'progress' }],
      ['p1', { urgency: 'progress' }],
      ['card', { urgency: 'queued' }],
      ['p2', { urgency: 'progress' }],
    ]);
    turns[2]!.promote('final');
    turns[2]!.promote('queued');
    await vi.advanceTimersByTimeAsync(1100);
    expect(order).toEqual(['busy', 'card']);
    await vi.advanceTimersByTimeAsync(2000);
    // The promoted request's stale entry in the queue held no slot: p1 and p2 follow one window apart.
    expect(order).toEqual(['busy', 'card', 'p1', 'p2']);
    expect(pacer.waiting).toBe(0);
  });

  it('spends no slot on a cancelled request', async () => {
    const pacer = new ChannelPacer({ maxEdits: 1, windowMs: 1000 });
    const { order, turns } = requests(pacer, [
      ['busy', { urgency: 'progress' }],
      ['gone', { urgency: 'progress' }],
      ['next', { urgency: 'progress' }],
    ]);
    await vi.advanceTimersByTimeAsync(10);
    turns[1]!.cancel();
    expect(pacer.waiting).toBe(1);
    await vi.advanceTimersByTimeAsync(1100);
    expect(order).toEqual(['busy', 'next']);
  });

  it('paces interaction-token edits apart from bot-token edits, under their own looser cap', async () => {
    const pacer = new ChannelPacer({ maxEdits: 1, interactionMaxEdits: 3, windowMs: 1000 });
    const { order } = requests(pacer, [
      ['c1', { bucket: 'channel' }],
      ['c2', { bucket: 'channel' }],
      ['i1', { bucket: 'interaction' }],
      ['i2', { bucket: 'interaction' }],
      ['i3', { bucket: 'interaction' }],
      ['i4', { bucket: 'interaction' }],
    ]);
    await vi.advanceTimersByTimeAsync(100);
    expect(order).toEqual(['c1', 'i1', 'i2', 'i3']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(order).toEqual(['c1', 'i1', 'i2', 'i3', 'c2', 'i4']);
  });

  it('lets a final edit through an interaction token past a full cap, but not past a pause', async () => {
    const pacer = new ChannelPacer({ interactionMaxEdits: 1, windowMs: 1000 });
    const { order, turns } = requests(pacer, [
      ['p1', { bucket: 'interaction' }],
      ['p2', { bucket: 'interaction' }],
      ['card', { bucket: 'interaction', urgency: 'queued' }],
      ['final', { bucket: 'interaction', urgency: 'final' }],
    ]);
    await vi.advanceTimersByTimeAsync(10);
    // The final needs no slot, so it does not even wait for bottleneck to start p1.
    expect(order).toEqual(['final', 'p1']);
    pacer.pause(500, 'interaction');
    turns[2]!.promote('final');
    await vi.advanceTimersByTimeAsync(400);
    expect(order).toEqual(['final', 'p1']);
    await vi.advanceTimersByTimeAsync(200);
    expect(order).toEqual(['final', 'p1', 'card']);
    // A pause of the interaction bucket leaves bot-token edits alone.
    const channel = requests(pacer, [['c1', { bucket: 'channel' }]]);
    pacer.pause(5000, 'interaction');
    await vi.advanceTimersByTimeAsync(10);
    expect(channel.order).toEqual(['c1']);
  });

  it('refuses a nonsense interaction cap with a clear message', () => {
    expect(() => new ChannelPacer({ interactionMaxEdits: 0 })).toThrow(/interactionMaxEdits must be a positive integer, got 0/);
    expect(() => new ChannelPacers({ interactionMaxEdits: 2.5 })).toThrow(/interactionMaxEdits must be a positive integer, got 2.5/);
  });
});
