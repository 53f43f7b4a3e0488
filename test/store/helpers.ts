import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { NewJobRow } from '../../src/jobs/store.js';

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
