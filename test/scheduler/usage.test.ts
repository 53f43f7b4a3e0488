import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openJobStore, type JobStore } from '../../src/jobs/store.js';
import { MemoryUsage, storeUsage } from '../../src/scheduler/usage.js';
import { ManualClock } from './manual-clock.js';

const NOON = Date.UTC(2026, 0, 1, 12, 0, 0);
const TOMORROW = Date.UTC(2026, 0, 2, 0, 0, 1);

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0).reverse()) c();
});

function store(clock: ManualClock): JobStore {
  const dir = mkdtempSync(join(tmpdir(), 'comfycord-usage-'));
  const s = openJobStore({ dataDir: dir, clock });
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }), () => s.close());
  return s;
}

let rows = 0;
function insertJob(s: JobStore, userId: string): void {
  rows += 1;
  s.insertJob({ id: `job-${rows}`, promptId: `prompt-${rows}`, ownerId: userId, guildId: 'g1', channelId: 'c1', command: 'draw', params: {}, workflow: {} });
}

describe('MemoryUsage', () => {
  it('counts per user and per UTC day, and remembers the last admission', () => {
    const usage = new MemoryUsage();
    usage.record('a', NOON);
    usage.record('a', NOON + 1_000);
    expect(usage.countOnDay('a', NOON + 2_000)).toBe(2);
    expect(usage.countOnDay('b', NOON)).toBe(0);
    expect(usage.countOnDay('a', TOMORROW)).toBe(0);
    expect(usage.lastAt('a')).toBe(NOON + 1_000);
    expect(usage.lastAt('b')).toBeUndefined();
    usage.record('a', TOMORROW);
    expect(usage.countOnDay('a', TOMORROW)).toBe(1);
  });
});

describe('storeUsage', () => {
  it('counts in the store, so a new instance over the same store sees the count', () => {
    const clock = new ManualClock(NOON);
    const s = store(clock);
    storeUsage(s).record('a', clock.now());
    storeUsage(s).record('a', clock.now());
    expect(s.usage('a')).toBe(2);
    expect(storeUsage(s).countOnDay('a', clock.now())).toBe(2);
    expect(storeUsage(s).countOnDay('a', TOMORROW)).toBe(0);
  });

  it('takes the last admission from the newest job row after a restart, and its own admissions first', () => {
    const clock = new ManualClock(NOON);
    const s = store(clock);
    expect(storeUsage(s).lastAt('a')).toBeUndefined();
    insertJob(s, 'a');
    clock.advance(5_000);
    insertJob(s, 'a');
    const usage = storeUsage(s);
    expect(usage.lastAt('a')).toBe(NOON + 5_000);
    usage.record('a', NOON + 9_000);
    expect(usage.lastAt('a')).toBe(NOON + 9_000);
  });

  it('turns a store failure into an error that names what could not be done', () => {
    const clock = new ManualClock(NOON);
    const s = store(clock);
    const usage = storeUsage(s);
    s.close();
    expect(() => usage.record('a', NOON)).toThrow(/^could not count the submission of user a in the job store: /);
    expect(() => usage.countOnDay('a', NOON)).toThrow(/^could not read the daily usage of user a in the job store: /);
  });
});
