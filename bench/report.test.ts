import { describe, expect, it } from 'vitest';
import { atLeast, atMost, below, fixed, formatMethod, formatTable } from './report.js';

describe('the bench table', () => {
  it('prints one aligned row per figure and says where a target is missed', () => {
    const table = formatTable([
      { benchmark: 'preview', figure: 'ratio', value: '1.10×', target: atMost(1.1, 1.3, '≤ 1.3×') },
      { benchmark: 'freshness', figure: '429s', value: '2', target: atMost(2, 0, '0') },
      { benchmark: 'scale', figure: 'jobs/s', value: '40.0', target: null },
    ]);
    const lines = table.split('\n');
    expect(lines[0]).toBe('| benchmark | figure | value | target | met? |');
    expect(lines[2]).toBe('| preview   | ratio  | 1.10× | ≤ 1.3× | yes  |');
    expect(lines[3]).toBe('| freshness | 429s   | 2     | 0      | NO   |');
    expect(lines[4]).toBe('| scale     | jobs/s | 40.0  | —      | —    |');
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
  });

  it('judges targets at their edges', () => {
    expect(atMost(0.95, 0.95, '').met).toBe(true);
    expect(below(20, 20, '').met).toBe(false);
    expect(atLeast(0.949, 0.95, '').met).toBe(false);
  });

  it('prefixes method lines with their benchmark and keeps non-finite values readable', () => {
    const method = formatMethod(new Map([['peer', { rows: [], method: ['a', 'b'] }]]));
    expect(method).toBe('- peer: a\n- peer: b');
    expect(fixed(Number.POSITIVE_INFINITY)).toBe('Infinity');
    expect(fixed(1.25, 1)).toBe('1.3');
  });
});
