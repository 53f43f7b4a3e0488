import { describe, expect, it } from 'vitest';
import { DispatchHolds } from './dispatch-holds.js';

describe('DispatchHolds', () => {
  it('resolves a backend drain when that backend goes idle, not another', async () => {
    const holds = new DispatchHolds();
    let drained = false;
    void holds.drainBackend('a', false).then(() => (drained = true));
    expect(holds.backendOpen('a')).toBe(false);
    holds.backendIdle('b');
    await Promise.resolve();
    expect(drained).toBe(false);
    holds.backendIdle('a');
    await Promise.resolve();
    expect(drained).toBe(true);
    // Drained stays paused until resumed.
    expect(holds.backendOpen('a')).toBe(false);
    holds.resumeBackend('a');
    expect(holds.backendOpen('a')).toBe(true);
  });

  it('a drain refuses new jobs and lifts a pause; a pause after it takes jobs again', async () => {
    const holds = new DispatchHolds();
    holds.pause();
    expect(holds.dispatching).toBe(false);
    const drained = holds.drain(false);
    expect(holds.accepting).toBe(false);
    expect(holds.dispatching).toBe(true);
    holds.allIdle();
    await expect(drained).resolves.toBeUndefined();
    holds.pause();
    expect(holds.accepting).toBe(true);
  });

  it('recovery and the close hold dispatch apart from the operators: a resume does not lift them', () => {
    const holds = new DispatchHolds();
    holds.holdDispatch();
    holds.resume();
    expect(holds.dispatching).toBe(false);
    holds.releaseDispatch();
    expect(holds.dispatching).toBe(true);
    holds.close();
    holds.resume();
    expect(holds.dispatching).toBe(false);
  });

  it("keeps each server's hold apart; DMs have none", () => {
    const holds = new DispatchHolds();
    holds.holdGuild('g1', 'paused');
    holds.holdGuild('g2', 'draining');
    expect([holds.guildHold('g1'), holds.guildHold('g2'), holds.guildHold('g3'), holds.guildHold(null)]).toEqual(['paused', 'draining', null, null]);
    holds.holdGuild('g1', null);
    expect(holds.guildHold('g1')).toBeNull();
  });
});
