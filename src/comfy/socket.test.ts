import { describe, expect, it } from 'vitest';
import { reconnectDelay } from './socket.js';

describe('reconnectDelay', () => {
  const range = { minMs: 500, maxMs: 30_000 };

  it('doubles per attempt up to the maximum', () => {
    const top = (attempt: number) => reconnectDelay(attempt, range, () => 1);
    expect([0, 1, 2, 3, 10].map(top)).toEqual([500, 1000, 2000, 4000, 30_000]);
  });

  it('jitters within the upper half of the step', () => {
    expect(reconnectDelay(2, range, () => 0)).toBe(1000);
    expect(reconnectDelay(2, range, () => 0.5)).toBe(1500);
  });
});
