// The bench's output: one table of figures (benchmark | figure | value | target | met?) and the method lines.

/** `null` target: a figure reported for context, with nothing to meet. */
export interface Target {
  /** As printed, e.g. "≤ 1.3×". */
  text: string;
  met: boolean;
}

export interface Row {
  benchmark: string;
  figure: string;
  value: string;
  target: Target | null;
}

export interface BenchResult {
  rows: Row[];
  /** How it was measured: printed under the table, one line each. */
  method: string[];
}

export const atMost = (value: number, limit: number, text: string): Target => ({ text, met: value <= limit });
export const below = (value: number, limit: number, text: string): Target => ({ text, met: value < limit });
export const atLeast = (value: number, limit: number, text: string): Target => ({ text, met: value >= limit });

export function fixed(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : String(value);
}

export function formatTable(rows: readonly Row[]): string {
  const header = ['benchmark', 'figure', 'value', 'target', 'met?'];
  const cells = rows.map((r) => [r.benchmark, r.figure, r.value, r.target?.text ?? '—', r.target ? (r.target.met ? 'yes' : 'NO') : '—']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

export function formatMethod(results: ReadonlyMap<string, BenchResult>): string {
  const out: string[] = [];
  for (const [name, result] of results) for (const m of result.method) out.push(`- ${name}: ${m}`);
  return out.join('\n');
}
