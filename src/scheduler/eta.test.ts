import { describe, expect, it } from 'vitest';
import { RunTimeAverages, queueEtas } from './eta.js';

describe('RunTimeAverages', () => {
  it('keeps a moving average per command and backend, with the command average as fallback', () => {
    const a = new RunTimeAverages();
    expect(a.estimate('draw')).toBeNull();
    a.record('draw', 'gpu1', 10_000);
    a.record('draw', 'gpu1', 20_000);
    expect(a.estimate('draw', 'gpu1')).toBe(13_000);
    a.record('draw', 'gpu2', 40_000);
    expect(a.estimate('draw', 'gpu2')).toBe(40_000);
    expect(a.estimate('draw', 'gpu3')).toBeCloseTo(21_100);
  });
});

describe('queueEtas', () => {
  it('models the slots as lanes taken by whichever frees first', () => {
    expect(queueEtas({ running: [5_000, 1_000], waiting: [10_000, 10_000, 10_000], slots: 2 })).toEqual([11_000, 15_000, 21_000]);
  });

  it('is unknown from the first job whose run time is unknown, and with no slot', () => {
    expect(queueEtas({ running: [], waiting: [1_000, null, 1_000], slots: 1 })).toEqual([1_000, null, null]);
    expect(queueEtas({ running: [], waiting: [1_000], slots: 0 })).toEqual([null]);
  });
});
