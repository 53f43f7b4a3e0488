// 11. Store: the job store's cost per job on SQLite and on PostgreSQL (a real server from Debian's package,
// started on loopback in a temp dir like the tests' one): every write a job makes from admission to delivery,
// each through the synchronous interface the bot uses (on PostgreSQL, a round trip to the pg worker thread).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openJobStore, type JobStore } from '../src/jobs/store.js';
import { startPgServer } from '../test/pg/server.js';
import { fixed, type BenchResult } from './report.js';
import { median, p95 } from './stats.js';

const WARMUP = 50;
const JOBS = 400;

/** One job's life in the store, as persistence writes it; returns its duration in ms. */
function oneJob(store: JobStore, i: number): number {
  const id = `job-${i}`;
  const t0 = performance.now();
  const admitted = store.admitJob(
    { id, promptId: `p-${i}`, ownerId: `u${i % 20}`, guildId: `g${i % 3}`, channelId: 'c', command: 'imagine', params: { prompt: 'a cat', seed: i }, workflow: { '3': { class_type: 'KSampler', inputs: { seed: i } } } },
    { userLive: 1_000, guildLive: 10_000 },
  );
  if (!admitted.admitted) throw new Error(`job ${id} refused: ${admitted.limit}`);
  store.transition(id, ['queued'], 'dispatched', { backend: 'gpu-1', attempts: 1 });
  store.transition(id, ['dispatched'], 'running');
  store.transition(id, ['running'], 'succeeded', { outputs: [{ node: '9', kind: 'images', filename: `${id}.png`, subfolder: '', type: 'output' }], gpuMs: 4_000 });
  store.recordDelivery(id, { messageId: `m-${i}`, files: [`${id}.png`] });
  return performance.now() - t0;
}

function measure(store: JobStore): number[] {
  for (let i = 0; i < WARMUP; i++) oneJob(store, -1 - i);
  return Array.from({ length: JOBS }, (_, i) => oneJob(store, i));
}

export async function runStore(): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'comfycord-bench-store-'));
  const server = await startPgServer();
  try {
    const sqlite = openJobStore({ dataDir: join(dir, 'sqlite') });
    const onSqlite = measure(sqlite);
    sqlite.close();
    const pg = openJobStore({ dataDir: join(dir, 'pg'), databaseUrl: server.url });
    const onPg = measure(pg);
    pg.close();
    const ratio = median(onPg) / median(onSqlite);
    return {
      rows: [
        { benchmark: 'store', figure: 'store time per job, SQLite: p50 / p95', value: `${fixed(median(onSqlite), 2)} / ${fixed(p95(onSqlite), 2)} ms`, target: null },
        { benchmark: 'store', figure: 'store time per job, PostgreSQL: p50 / p95', value: `${fixed(median(onPg), 2)} / ${fixed(p95(onPg), 2)} ms`, target: null },
        { benchmark: 'store', figure: 'PostgreSQL ÷ SQLite (p50)', value: `× ${fixed(ratio, 1)}`, target: null },
      ],
      method: [
        `${JOBS} jobs after ${WARMUP} warm-up ones, each: admitJob (caps counted in its transaction), queued → dispatched → running → succeeded (compare-and-set), recordDelivery; every call returns the row as the bot reads it`,
        'SQLite: WAL, synchronous=NORMAL, in a temp dir. PostgreSQL: Debian\'s server on loopback in a temp dir (fsync off, as in the tests), one connection on the store\'s worker thread',
      ],
    };
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
