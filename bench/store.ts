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

/** Servers with settings, some of them holding their queue, and a bot-wide and a backend hold, as a busy bot has. */
const SERVERS = 200;

/** The holds read every process makes before each admission with several processes (twice a job); ms per read. */
function measureHolds(store: JobStore): number[] {
  for (let g = 0; g < SERVERS; g++) store.setGuildSettings(String(1000 + g), { queue: g % 20 === 0 ? 'paused' : 'open', blockedWords: ['dragon'] });
  store.setHold({ kind: 'bot' }, 'paused');
  store.setHold({ kind: 'backend', name: 'gpu-1' }, 'draining');
  const read = (): number => {
    const t0 = performance.now();
    store.holds();
    return performance.now() - t0;
  };
  for (let i = 0; i < WARMUP; i++) read();
  return Array.from({ length: JOBS }, read);
}

export async function runStore(): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'comfycord-bench-store-'));
  const server = await startPgServer();
  try {
    const sqlite = openJobStore({ dataDir: join(dir, 'sqlite') });
    const onSqlite = measure(sqlite);
    const holdsSqlite = measureHolds(sqlite);
    sqlite.close();
    const pg = openJobStore({ dataDir: join(dir, 'pg'), databaseUrl: server.url });
    const onPg = measure(pg);
    const holdsPg = measureHolds(pg);
    pg.close();
    const ratio = median(onPg) / median(onSqlite);
    return {
      rows: [
        { benchmark: 'store', figure: 'store time per job, SQLite: p50 / p95', value: `${fixed(median(onSqlite), 2)} / ${fixed(p95(onSqlite), 2)} ms`, target: null },
        { benchmark: 'store', figure: 'store time per job, PostgreSQL: p50 / p95', value: `${fixed(median(onPg), 2)} / ${fixed(p95(onPg), 2)} ms`, target: null },
        { benchmark: 'store', figure: 'PostgreSQL ÷ SQLite (p50)', value: `× ${fixed(ratio, 1)}`, target: null },
        { benchmark: 'store', figure: 'holds read (twice per job with several processes), SQLite: p50 / p95', value: `${fixed(median(holdsSqlite), 2)} / ${fixed(p95(holdsSqlite), 2)} ms`, target: null },
        { benchmark: 'store', figure: 'holds read (twice per job with several processes), PostgreSQL: p50 / p95', value: `${fixed(median(holdsPg), 2)} / ${fixed(p95(holdsPg), 2)} ms`, target: null },
      ],
      method: [
        `${JOBS} jobs after ${WARMUP} warm-up ones, each: admitJob (caps counted in its transaction), queued → dispatched → running → succeeded (compare-and-set), recordDelivery; every call returns the row as the bot reads it`,
        `holds read: store.holds() (one query: the operators' holds and the servers holding their queue) with ${SERVERS} servers' settings, 1 in 20 paused, a bot-wide and a backend hold; ${JOBS} reads after ${WARMUP} warm-up ones`,
        'SQLite: WAL, synchronous=NORMAL, in a temp dir. PostgreSQL: Debian\'s server on loopback in a temp dir (fsync off, as in the tests), one connection on the store\'s worker thread',
      ],
    };
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
