import { describe, expect, it } from 'vitest';
import { jainIndex, mean, median, p95, quantile } from './stats.js';

describe('quantile', () => {
  it('takes the nearest rank, whatever the input order', () => {
    const values = [5, 1, 4, 2, 3];
    expect(median(values)).toBe(3);
    expect(quantile(values, 0)).toBe(1);
    expect(quantile(values, 1)).toBe(5);
    expect(p95(Array.from({ length: 100 }, (_, i) => 100 - i))).toBe(95);
    expect(values).toEqual([5, 1, 4, 2, 3]);
  });

  it('refuses an empty sample, naming it, and a quantile outside 0..1', () => {
    expect(() => median([], 'set of preview edits')).toThrow('cannot take a quantile of an empty set of preview edits');
    expect(() => quantile([1], 1.5)).toThrow('quantile must be between 0 and 1, got 1.5');
    expect(() => mean([])).toThrow('cannot average an empty sample');
  });
});

describe("Jain's index", () => {
  it('is 1 for equal shares and 1/n when one user gets everything', () => {
    expect(jainIndex([3, 3, 3, 3])).toBe(1);
    expect(jainIndex([8, 0, 0, 0])).toBe(0.25);
    expect(jainIndex([1, 2])).toBeCloseTo(0.9, 10);
  });

  it('refuses allocations it has no meaning for', () => {
    expect(() => jainIndex([])).toThrow("Jain's index needs at least one allocation");
    expect(() => jainIndex([1, -1])).toThrow('numbers >= 0');
    expect(() => jainIndex([1, Number.NaN])).toThrow('numbers >= 0');
    expect(() => jainIndex([0, 0])).toThrow('undefined when every allocation is 0');
  });
});
