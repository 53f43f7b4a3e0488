import { describe, expect, it } from 'vitest';
import { BENCHMARKS, selectBenchmarks } from './args.js';

describe('selecting benchmarks', () => {
  it('runs all of them by default and a subset in canonical order', () => {
    expect(selectBenchmarks([])).toEqual([...BENCHMARKS]);
    expect(selectBenchmarks(['--'])).toEqual([...BENCHMARKS]);
    expect(selectBenchmarks(['scale', 'Preview', 'scale'])).toEqual(['preview', 'scale']);
    expect(selectBenchmarks(['relax', 'gpu-share'])).toEqual(['gpu-share', 'relax']);
  });

  it('refuses unknown names together, listing the valid ones', () => {
    expect(() => selectBenchmarks(['preview', 'speed', 'fresh'])).toThrow(
      'unknown benchmarks "speed", "fresh"; choose from: preview, freshness, overhead, scale, delivery, peer, grid, untrusted, loop, gpu-share, store, relax, failover, cluster',
    );
  });
});
