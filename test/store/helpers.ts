import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, onTestFinished } from 'vitest';
import type { JobStore, JobStoreOptions, NewJobRow } from '../../src/jobs/store.js';
import type { Engine } from './engines.js';

/** A fresh data dir per call, removed after the test. */
export function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'comfycord-store-'));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A clock the test moves by hand. */
export function manualClock(start = Date.UTC(2026, 10, 28, 12, 0, 0)) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

export function newJob(id: string, overrides: Partial<NewJobRow> = {}): NewJobRow {
  return {
    id,
    promptId: `prompt-${id}`,
    ownerId: 'user-1',
    guildId: '100',
    channelId: '200',
    command: 'imagine',
    params: { prompt: 'a cat', seed: 42, steps: 20 },
    workflow: { '3': { class_type: 'KSampler', inputs: { seed: 42, model: ['4', 0] } } },
    ...overrides,
  };
}

/** Inserts `job` and reads its row back, as recovery and the commands that list jobs will see it. */
export function insertAndRead(store: Pick<JobStore, 'insertJob' | 'get'>, job: NewJobRow) {
  store.insertJob(job);
  const row = store.get(job.id);
  if (!row) throw new Error(`job ${job.id} was inserted but cannot be read back`);
  return row;
}

/** The store of `options.dataDir` on `engine`, closed when the test finishes. */
export function openStore(engine: Engine, options: Omit<JobStoreOptions, 'databaseUrl'>): JobStore {
  const store = engine.open(options);
  onTestFinished(() => store.close());
  return store;
}

/** Several processes' stores on one new database of `engine`, on one manual clock. */
export function processesOn(engine: Engine, count: number) {
  const dataDir = tempDataDir();
  const clock = manualClock();
  const stores = Array.from({ length: count }, () => openStore(engine, { dataDir, clock }));
  return { stores, clock, dataDir };
}
