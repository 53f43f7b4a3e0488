// `npm run bench [-- name ...]`: runs the chosen benchmarks one after another against local fakes on loopback
// and prints one table of figures measured in this run, then how each was measured.
import { BenchArgsError, selectBenchmarks, type BenchmarkName } from './args.js';
import { formatMethod, formatTable, type BenchResult } from './report.js';

const RUNNERS: Record<BenchmarkName, () => Promise<BenchResult>> = {
  preview: async () => (await import('./preview.js')).runPreview(),
  freshness: async () => (await import('./freshness.js')).runFreshness(),
  overhead: async () => (await import('./overhead.js')).runOverhead(),
  scale: async () => (await import('./scale.js')).runScale(),
  delivery: async () => (await import('./delivery.js')).runDelivery(),
  peer: async () => (await import('./peer.js')).runPeer(),
  grid: async () => (await import('./grid.js')).runGrid(),
  untrusted: async () => (await import('./untrusted.js')).runUntrusted(),
  loop: async () => (await import('./loop.js')).runLoop(),
  'gpu-share': async () => (await import('./gpu-share.js')).runGpuShare(),
  store: async () => (await import('./store.js')).runStore(),
  relax: async () => (await import('./relax.js')).runRelax(),
  failover: async () => (await import('./failover.js')).runFailover(),
  cluster: async () => (await import('./cluster.js')).runCluster(),
};

async function main(argv: string[]): Promise<number> {
  let names: BenchmarkName[];
  try {
    names = selectBenchmarks(argv);
  } catch (error) {
    if (error instanceof BenchArgsError) {
      console.error(`bench: ${error.message}`);
      return 2;
    }
    throw error;
  }
  const results = new Map<string, BenchResult>();
  const failures: string[] = [];
  const started = Date.now();
  for (const name of names) {
    process.stderr.write(`bench: running ${name}…\n`);
    const t0 = Date.now();
    try {
      results.set(name, await RUNNERS[name]());
      process.stderr.write(`bench: ${name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    } catch (error) {
      // One broken benchmark must not hide the figures of the others.
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      failures.push(`${name}: ${message}`);
      process.stderr.write(`bench: ${name} failed: ${message}\n`);
    }
  }
  const rows = [...results.values()].flatMap((r) => r.rows);
  console.log(`comfycord bench — ${new Date().toISOString()} — node ${process.version}, ${names.join(', ')}, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log('');
  console.log(formatTable(rows));
  console.log('');
  console.log('Method:');
  console.log(formatMethod(results));
  if (failures.length > 0) {
    console.log('');
    console.log('Failed:');
    for (const f of failures) console.log(`- ${f.split('\n')[0]}`);
  }
  return failures.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
