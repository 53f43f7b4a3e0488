// `npm run bench -- preview scale`: which benchmarks to run, in the canonical order.

export const BENCHMARKS = ['preview', 'freshness', 'overhead', 'scale', 'delivery', 'peer', 'grid', 'untrusted', 'loop', 'gpu-share', 'store', 'relax', 'failover', 'cluster'] as const;
export type BenchmarkName = (typeof BENCHMARKS)[number];

export class BenchArgsError extends Error {
  override name = 'BenchArgsError';
}

const isBenchmark = (name: string): name is BenchmarkName => (BENCHMARKS as readonly string[]).includes(name);

/** No names: all of them. Unknown names are refused together, naming the valid ones. */
export function selectBenchmarks(argv: readonly string[]): BenchmarkName[] {
  const names = argv.map((a) => a.trim().toLowerCase()).filter((a) => a !== '' && a !== '--');
  const unknown = names.filter((n) => !isBenchmark(n));
  if (unknown.length > 0) {
    throw new BenchArgsError(`unknown benchmark${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}; choose from: ${BENCHMARKS.join(', ')}`);
  }
  if (names.length === 0) return [...BENCHMARKS];
  return BENCHMARKS.filter((b) => names.includes(b));
}
