import { describe, expect, it } from 'vitest';
import { SlotLedger } from './slot-ledger.js';

const a = { userId: 'a', guildId: 'g1' };
const b = { userId: 'b', guildId: 'g1' };
const dm = { userId: 'd', guildId: null };

describe('SlotLedger', () => {
  it('counts slots per backend, per user and per server as they are taken and given back', () => {
    const slots = new SlotLedger();
    slots.take('gpu1', a);
    slots.take('gpu1', b);
    slots.take('gpu2', a);
    slots.take('gpu2', dm);
    expect([slots.ofBackend('gpu1'), slots.ofBackend('gpu2'), slots.ofBackend('gpu3')]).toEqual([2, 2, 0]);
    expect([slots.ofUser('a'), slots.ofUser('b'), slots.ofUser('c')]).toEqual([2, 1, 0]);
    expect([slots.ofGuild('g1'), slots.ofGuild(null), slots.ofGuild('g2')]).toEqual([3, 1, 0]);
    expect(slots.give('gpu1', a)).toBe(1);
    expect(slots.give('gpu1', b)).toBe(0);
    expect(slots.give('gpu2', dm)).toBe(1);
    expect([slots.ofBackend('gpu1'), slots.ofUser('a'), slots.ofUser('b'), slots.ofGuild('g1'), slots.ofGuild(null)]).toEqual([0, 1, 0, 1, 0]);
  });

  it('refuses to give back a slot that was never taken, naming backend, user and server', () => {
    const slots = new SlotLedger();
    expect(() => slots.give('gpu1', a)).toThrow('slot ledger: no slot on backend gpu1 held by user a (guild g1) to give back');
    slots.take('gpu1', a);
    expect(() => slots.give('gpu1', b)).toThrow('slot ledger: no slot on backend gpu1 held by user b (guild g1) to give back');
    expect(() => slots.give('gpu1', { userId: 'a', guildId: 'g2' })).toThrow('held by user a (guild g2)');
    expect(slots.give('gpu1', a)).toBe(0);
    expect(() => slots.give('gpu1', dm)).toThrow('held by user d (direct messages)');
    expect(slots.ofBackend('gpu1')).toBe(0);
  });
});
