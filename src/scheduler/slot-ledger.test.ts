import { describe, expect, it } from 'vitest';
import { SlotLedger } from './slot-ledger.js';

describe('SlotLedger', () => {
  it('counts slots per backend and per user as they are taken and given back', () => {
    const slots = new SlotLedger();
    slots.take('gpu1', 'a');
    slots.take('gpu1', 'b');
    slots.take('gpu2', 'a');
    expect([slots.ofBackend('gpu1'), slots.ofBackend('gpu2'), slots.ofBackend('gpu3')]).toEqual([2, 1, 0]);
    expect([slots.ofUser('a'), slots.ofUser('b'), slots.ofUser('c')]).toEqual([2, 1, 0]);
    expect(slots.give('gpu1', 'a')).toBe(1);
    expect(slots.give('gpu1', 'b')).toBe(0);
    expect([slots.ofBackend('gpu1'), slots.ofUser('a'), slots.ofUser('b')]).toEqual([0, 1, 0]);
  });

  it('refuses to give back a slot that was never taken, naming backend and user', () => {
    const slots = new SlotLedger();
    expect(() => slots.give('gpu1', 'a')).toThrow('slot ledger: no slot on backend gpu1 held by user a to give back');
    slots.take('gpu1', 'a');
    expect(() => slots.give('gpu1', 'b')).toThrow('slot ledger: no slot on backend gpu1 held by user b to give back');
    expect(slots.give('gpu1', 'a')).toBe(0);
    expect(() => slots.give('gpu1', 'a')).toThrow('no slot on backend gpu1');
    expect(slots.ofBackend('gpu1')).toBe(0);
  });
});
