// Several processes on one store, started together: admission caps hold across them (decided inside one
// transaction per admission) and a compare-and-set transition succeeds exactly once. Real processes, because
// each store is synchronous: two stores in one thread could only take turns.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobStore } from '../../src/jobs/store.js';
import { ENGINES } from './engines.js';
import { newJob, tempDataDir } from './helpers.js';

const RACER = fileURLToPath(new URL('./racer.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface RaceResult {
  admitted: string[];
  refused: string[];
  finished: string[];
}

/** Starts one racer per orders, releases them together once all are ready, and returns what each did. */
async function race(orders: readonly object[]): Promise<RaceResult[]> {
  const racers = orders.map((o) => {
    const child = spawn(process.execPath, ['--import', 'tsx', RACER, JSON.stringify(o)], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines: string[] = [];
    const waiting: ((line: string) => void)[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      const resolve = waiting.shift();
      if (resolve) resolve(line);
      else lines.push(line);
    });
    const exited = once(child, 'exit');
    // The next line the racer prints; a racer that dies first fails the test with its stderr.
    const next = (): Promise<string> =>
      Promise.race([
        new Promise<string>((resolve) => (lines.length > 0 ? resolve(lines.shift()!) : waiting.push(resolve))),
        exited.then(([code]) => Promise.reject(new Error(`racer exited with ${String(code)}: ${stderr}`))),
      ]);
    return { child, next, exited };
  });
  try {
    for (const r of racers) expect(await r.next()).toBe('ready');
    for (const r of racers) r.child.stdin.end('go\n');
    const results = await Promise.all(racers.map(async (r) => JSON.parse(await r.next()) as RaceResult));
    await Promise.all(racers.map((r) => r.exited));
    return results;
  } finally {
    for (const r of racers) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  }
}

describe.each(ENGINES)('processes sharing the store on $name', (engine) => {
  let store: JobStore | undefined;
  afterEach(() => store?.close());

  it("cannot admit past a member's cap, or a server's, between them", async () => {
    const dataDir = tempDataDir();
    store = engine.open({ dataDir });
    const databaseUrl = engine.databaseUrl(dataDir);
    // Member cap: 3 live jobs of user-1, 2 × 6 attempts at once.
    const byUser = await race(
      ['a', 'b'].map((p) => ({ dataDir, databaseUrl, admit: { prefix: p, owners: ['user-1'], guildId: 'g1', attempts: 6, caps: { userLive: 3 } } })),
    );
    expect(byUser.flatMap((r) => r.admitted)).toHaveLength(3);
    expect(byUser.flatMap((r) => r.refused)).toHaveLength(9);
    expect(byUser.flatMap((r) => r.refused).every((r) => r.endsWith(':userLive'))).toBe(true);
    // Server cap: 4 live jobs in g2 from many members, 2 × 8 attempts at once.
    const owners = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8'];
    const byGuild = await race(
      ['c', 'd'].map((p) => ({ dataDir, databaseUrl, admit: { prefix: p, owners, guildId: 'g2', attempts: 8, caps: { userLive: 3, guildLive: 4 } } })),
    );
    expect(byGuild.flatMap((r) => r.admitted)).toHaveLength(4);
    expect(store.unfinished().filter((j) => j.guildId === 'g2')).toHaveLength(4);
    expect(store.unfinished().filter((j) => j.ownerId === 'user-1')).toHaveLength(3);
  });

  it('lets exactly one process finish each job', async () => {
    const dataDir = tempDataDir();
    store = engine.open({ dataDir });
    const ids = Array.from({ length: 30 }, (_, i) => `job-${i}`);
    for (const id of ids) {
      store.insertJob(newJob(id));
      store.transition(id, ['queued'], 'running');
    }
    const databaseUrl = engine.databaseUrl(dataDir);
    const results = await race([
      { dataDir, databaseUrl, finish: { ids, to: 'succeeded' } },
      { dataDir, databaseUrl, finish: { ids: [...ids].reverse(), to: 'cancelled' } },
    ]);
    const [succeeded, cancelled] = results.map((r) => r.finished);
    expect([...succeeded!, ...cancelled!].sort()).toEqual([...ids].sort());
    for (const id of ids) expect(store.get(id)?.state).toBe(succeeded!.includes(id) ? 'succeeded' : 'cancelled');
  });
});

describe.each(ENGINES)('admission in one transaction on $name', (engine) => {
  let store: JobStore | undefined;
  afterEach(() => store?.close());

  it('admits under the caps, counts the day, and says which cap refused and what it counted', () => {
    store = engine.open({ dataDir: tempDataDir() });
    const caps = { userLive: 2, guildLive: 3, dailyQuota: 3 };
    expect(store.admitJob(newJob('a'), caps)).toMatchObject({ admitted: true, row: { id: 'a', state: 'queued' } });
    expect(store.admitJob(newJob('b'), caps).admitted).toBe(true);
    expect(store.admitJob(newJob('c'), caps)).toEqual({ admitted: false, limit: 'userLive', count: 2, cap: 2 });
    expect(store.get('c')).toBeNull();
    expect(store.admitJob(newJob('d', { ownerId: 'user-2' }), caps).admitted).toBe(true);
    expect(store.admitJob(newJob('e', { ownerId: 'user-3' }), caps)).toEqual({ admitted: false, limit: 'guildLive', count: 3, cap: 3 });
    // Finished jobs free the live caps, not the day's quota.
    store.transition('a', ['queued'], 'succeeded');
    store.transition('b', ['queued'], 'failed');
    expect(store.admitJob(newJob('f'), caps).admitted).toBe(true);
    expect(store.usage('user-1')).toBe(3);
    expect(store.admitJob(newJob('g'), caps)).toEqual({ admitted: false, limit: 'dailyQuota', count: 3, cap: 3 });
    // Direct messages count as one server.
    expect(store.admitJob(newJob('dm', { ownerId: 'user-4', guildId: null }), { guildLive: 0 })).toEqual({ admitted: false, limit: 'guildLive', count: 0, cap: 0 });
  });
});
