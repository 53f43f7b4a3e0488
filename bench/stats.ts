// Summary statistics for the bench: plain functions over arrays of numbers, so the method is easy to check.

/** The q-quantile (0..1) by the nearest-rank method; throws on an empty sample so a missing figure is never 0. */
export function quantile(values: readonly number[], q: number, what = 'sample'): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be between 0 and 1, got ${q}`);
  if (values.length === 0) throw new RangeError(`cannot take a quantile of an empty ${what}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}

export const median = (values: readonly number[], what?: string): number => quantile(values, 0.5, what);
export const p95 = (values: readonly number[], what?: string): number => quantile(values, 0.95, what);

export function mean(values: readonly number[], what = 'sample'): number {
  if (values.length === 0) throw new RangeError(`cannot average an empty ${what}`);
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

/**
 * Jain's fairness index (Σx)² / (n·Σx²): 1 when every user got the same, 1/n when one user got everything.
 * Throws on negative or all-zero allocations, which have no meaningful index.
 */
export function jainIndex(allocations: readonly number[]): number {
  if (allocations.length === 0) throw new RangeError("Jain's index needs at least one allocation");
  if (allocations.some((x) => !(x >= 0))) throw new RangeError("Jain's index needs allocations that are numbers >= 0");
  const sum = allocations.reduce((s, x) => s + x, 0);
  const squares = allocations.reduce((s, x) => s + x * x, 0);
  if (squares === 0) throw new RangeError("Jain's index is undefined when every allocation is 0");
  return (sum * sum) / (allocations.length * squares);
}
