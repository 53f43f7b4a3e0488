import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/jobs/migrations.js';
import { openJobStore, StoreError, type JobStore } from '../../src/jobs/store.js';
import { ENGINES, SQLITE } from './engines.js';
import { insertAndRead, manualClock, newJob, tempDataDir } from './helpers.js';

const DAY = 86_400_000;
let open: JobStore[] = [];
afterEach(() => {
  for (const store of open) store.close();
  open = [];
});

function sqliteSetup(dataDir = tempDataDir()) {
  const clock = manualClock();
  const store = SQLITE.open({ dataDir, clock });
  open.push(store);
  return { store, clock, dataDir };
}

describe('openJobStore on SQLite', () => {
  it('creates the data dir and a WAL database at the current schema version', () => {
    const dataDir = join(tempDataDir(), 'nested', 'data');
    const { store } = sqliteSetup(dataDir);
    expect(existsSync(join(dataDir, 'comfycord.db'))).toBe(true);
    store.close();
    open = [];
    const db = new Database(join(dataDir, 'comfycord.db'), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    db.close();
  });

  it('says which path it could not open', () => {
    const { dataDir } = sqliteSetup();
    // The data dir would have to be created inside the database file.
    const impossible = join(dataDir, 'comfycord.db', 'x');
    expect(() => openJobStore({ dataDir: impossible })).toThrow(
      `cannot open the job database ${join(impossible, 'comfycord.db')}: ENOTDIR`,
    );
  });
});

describe.each(ENGINES)('the store on $name', (engine) => {
  function setup(dataDir = tempDataDir()) {
    const clock = manualClock();
    const store = engine.open({ dataDir, clock });
    open.push(store);
    return { store, clock, dataDir };
  }

  describe('jobs', () => {
    it('inserts a queued job with everything needed to rebuild it', () => {
      const { store, clock } = setup();
      const row = insertAndRead(
        store,
        newJob('j1', { interaction: { token: 'tok', expiresAt: clock.now() + 900_000 }, messageId: '300', parentId: 'j0', uploadLimit: 52_428_800 }),
      );
      expect(row).toMatchObject({
        id: 'j1',
        state: 'queued',
        promptId: 'prompt-j1',
        ownerId: 'user-1',
        guildId: '100',
        channelId: '200',
        messageId: '300',
        interaction: { token: 'tok', expiresAt: clock.now() + 900_000 },
        command: 'imagine',
        params: { prompt: 'a cat', seed: 42, steps: 20 },
        workflow: { '3': { class_type: 'KSampler', inputs: { seed: 42, model: ['4', 0] } } },
        images: [],
        backend: null,
        attempts: 0,
        error: null,
        outputs: null,
        delivery: 'none',
        deliveries: [],
        uploadLimit: 52_428_800,
        parentId: 'j0',
        createdAt: clock.now(),
        updatedAt: clock.now(),
        startedAt: null,
        finishedAt: null,
      });
      expect(store.get('j1')).toEqual(row);
      expect(store.get('missing')).toBeNull();
    });

    it('refuses a duplicate id and leaves the first job untouched', () => {
      const { store } = setup();
      store.insertJob(newJob('j1'));
      expect(() => store.insertJob(newJob('j1', { command: 'other' }))).toThrow(/could not save job j1: (UNIQUE constraint|duplicate key value violates unique constraint)/);
      expect(store.get('j1')?.command).toBe('imagine');
    });

    it('saves image inputs as content-addressed files shared between jobs', () => {
      const { store, dataDir } = setup();
      const bytes = Buffer.from('png bytes');
      const a = insertAndRead(store, newJob('a', { images: [{ option: 'image', filename: 'cat.png', mime: 'image/png', bytes }] }));
      store.insertJob(newJob('b', { images: [{ option: 'image', filename: 'cat.png', mime: 'image/png', bytes }] }));
      expect(a.images).toEqual([
        expect.objectContaining({ option: 'image', filename: 'cat.png', mime: 'image/png', size: bytes.length }),
      ]);
      expect(readFileSync(a.images[0]!.path)).toEqual(bytes);
      expect(readdirSync(join(dataDir, 'inputs'))).toHaveLength(1);
      expect(store.get('b')!.images[0]!.path).toBe(a.images[0]!.path);
    });

    it('writes nothing when part of an insert fails', () => {
      const { store, dataDir } = setup();
      const image = { filename: 'x.png', mime: 'image/png', bytes: Buffer.from('x') };
      expect(() =>
        store.insertJob(newJob('dup', { images: [{ option: 'a', ...image }, { option: 'a', ...image }] })),
      ).toThrow('job dup has two images for option "a"');
      // A constraint failure after the files were written: the job row and the new file both disappear.
      store.insertJob(newJob('taken'));
      expect(() =>
        store.insertJob(newJob('taken', { images: [{ option: 'a', ...image, bytes: Buffer.from('fresh') }] })),
      ).toThrow(StoreError);
      expect(readdirSync(join(dataDir, 'inputs'))).toEqual([]);
      expect(store.get('dup')).toBeNull();
      expect(store.get('taken')?.images).toEqual([]);
    });

    it('keeps an input saved ahead of its job through a prune, and drops it when the submission is refused', async () => {
      const { store, dataDir } = setup();
      const saved = await store.saveInput(Buffer.from('ahead'));
      expect(readFileSync(saved.path, 'utf8')).toBe('ahead');
      store.prune(1); // no row refers to it yet, but its submission is still on its way
      expect(existsSync(saved.path)).toBe(true);
      const row = insertAndRead(store, newJob('a', { images: [{ option: 'image', filename: 'a.jpg', mime: 'image/jpeg', saved }] }));
      expect(row.images).toMatchObject([{ sha256: saved.sha256, size: 5, path: saved.path }]);

      const refused = await store.saveInput(Buffer.from('refused'));
      store.dropInput(refused.sha256);
      expect(existsSync(refused.path)).toBe(false);
      expect(readdirSync(join(dataDir, 'inputs'))).toEqual([saved.sha256]);
      expect(() => store.insertJob(newJob('b', { images: [{ option: 'image', filename: 'r.jpg', mime: 'image/jpeg', saved: refused }] }))).toThrow(
        /job b: input "image" is not saved/,
      );
    });

    it('keeps the input files of unfinished jobs when pruning', () => {
      const { store } = setup();
      const row = insertAndRead(store, newJob('a', { images: [{ option: 'image', filename: 'c.png', mime: 'image/png', bytes: Buffer.from('c') }] }));
      store.prune(1);
      expect(readFileSync(row.images[0]!.path).toString()).toBe('c');
    });

    it('updates fields and the update time, and refuses state changes and unknown jobs', () => {
      const { store, clock } = setup();
      store.insertJob(newJob('j1'));
      clock.advance(1000);
      store.updateJob('j1', {
        backend: 'gpu-1',
        attempts: 1,
        messageId: '555',
        outputs: [{ node: '9', kind: 'images', filename: 'a.png', subfolder: '', type: 'output' }],
        interaction: null,
      });
      const row = store.get('j1')!;
      expect(row).toMatchObject({ backend: 'gpu-1', attempts: 1, messageId: '555', updatedAt: clock.now(), createdAt: clock.now() - 1000 });
      expect(row.outputs).toEqual([{ node: '9', kind: 'images', filename: 'a.png', subfolder: '', type: 'output' }]);
      expect(() => store.updateJob('j1', { state: 'running' } as never)).toThrow(
        'cannot update field "state" of job j1 (states change only through transition())',
      );
      expect(() => store.updateJob('ghost', { error: 'x' })).toThrow('no job ghost in the store');
      expect(() => store.updateJob('j1', { attempts: -1 })).toThrow(/could not update job j1: (CHECK constraint|new row for relation "jobs" violates check constraint)/);
      expect(store.get('j1')?.attempts).toBe(1);
    });

    it("keeps when a queued job's wait for a backend began, across a reopen, until it is cleared", () => {
      const { store, clock, dataDir } = setup();
      expect(insertAndRead(store, newJob('j1')).waitSince).toBeNull();
      // Epoch milliseconds past 2^31: BIGINT on PostgreSQL, read back as a number.
      const since = clock.now() - 5_000;
      store.updateJob('j1', { waitSince: since });
      const again = engine.open({ dataDir, clock });
      try {
        expect(again.get('j1')?.waitSince).toBe(since);
        expect(again.unfinished().find((r) => r.id === 'j1')?.waitSince).toBe(since);
        again.updateJob('j1', { waitSince: null });
      } finally {
        again.close();
      }
      expect(store.get('j1')?.waitSince).toBeNull();
    });

    it('transitions by compare-and-set, stamping start, finish and pending delivery', () => {
      const { store, clock } = setup();
      store.insertJob(newJob('j1'));
      expect(store.transition('j1', ['queued'], 'dispatched', { backend: 'gpu-1', attempts: 1 })).toBe(true);
      expect(store.transition('j1', ['queued'], 'running')).toBe(false);
      clock.advance(500);
      expect(store.transition('j1', ['dispatched'], 'running')).toBe(true);
      const started = clock.now();
      clock.advance(500);
      expect(store.transition('j1', ['running'], 'running')).toBe(true);
      expect(store.get('j1')?.startedAt).toBe(started);
      clock.advance(500);
      expect(store.transition('j1', ['running'], 'succeeded')).toBe(true);
      expect(store.get('j1')).toMatchObject({ state: 'succeeded', finishedAt: clock.now(), delivery: 'pending', backend: 'gpu-1' });
      expect(store.transition('j1', ['running', 'queued'], 'failed', { error: 'late' })).toBe(false);
      expect(store.get('j1')).toMatchObject({ state: 'succeeded', error: null });
      expect(store.transition('ghost', ['queued'], 'running')).toBe(false);
    });

    it('rejects transitions that name no or unknown states', () => {
      const { store } = setup();
      store.insertJob(newJob('j1'));
      expect(() => store.transition('j1', [], 'running')).toThrow('transition of job j1 to running names no states to move from');
      expect(() => store.transition('j1', ['queued'], 'done' as never)).toThrow(/"done" is not a job state \(job j1\)/);
      expect(store.get('j1')?.state).toBe('queued');
    });

    it('lets exactly one of two racing connections finish a job', () => {
      // Two connections to one file, as two code paths holding stale views of the job would be: both believe it runs.
      const { store, dataDir } = setup();
      const other = engine.open({ dataDir });
      open.push(other);
      store.insertJob(newJob('race'));
      store.transition('race', ['queued'], 'running');
      const results = [
        store.transition('race', ['running'], 'succeeded'),
        other.transition('race', ['running'], 'cancelled', { error: 'cancelled by user' }),
      ];
      expect(results).toEqual([true, false]);
      expect(other.get('race')).toMatchObject({ state: 'succeeded', error: null });
    });

    it('lists unfinished jobs: queued in order, then in flight', () => {
      const { store, clock } = setup();
      for (const id of ['a', 'b', 'c', 'd', 'e']) {
        store.insertJob(newJob(id));
        clock.advance(1);
      }
      store.transition('a', ['queued'], 'running');
      store.transition('c', ['queued'], 'dispatched');
      store.transition('e', ['queued'], 'cancelled');
      expect(store.unfinished().map((j) => [j.id, j.state])).toEqual([
        ['b', 'queued'],
        ['d', 'queued'],
        ['a', 'running'],
        ['c', 'dispatched'],
      ]);
    });

    it("lists a user's jobs newest first, with limit and cursor", () => {
      const { store, clock } = setup();
      for (const id of ['a', 'b', 'c']) {
        store.insertJob(newJob(id));
        clock.advance(10);
      }
      store.insertJob(newJob('other', { ownerId: 'user-2' }));
      expect(store.listByUser('user-1').map((j) => j.id)).toEqual(['c', 'b', 'a']);
      expect(store.listByUser('user-1', { limit: 2 }).map((j) => j.id)).toEqual(['c', 'b']);
      const b = store.get('b')!;
      expect(store.listByUser('user-1', { before: b.createdAt }).map((j) => j.id)).toEqual(['a']);
      expect(store.listByUser('nobody')).toEqual([]);
      expect(() => store.listByUser('user-1', { limit: 0 })).toThrow('listByUser limit must be a positive integer, got 0');
    });

    it("tells when a user's newest job was created (the admission's minimum interval), undefined for none", () => {
      const { store, clock } = setup();
      expect(store.lastCreatedAt('user-1')).toBeUndefined();
      store.insertJob(newJob('a', { ownerId: 'user-1' }));
      clock.advance(10);
      store.insertJob(newJob('b', { ownerId: 'user-1' }));
      clock.advance(10);
      store.insertJob(newJob('other', { ownerId: 'user-2' }));
      expect(store.lastCreatedAt('user-1')).toBe(store.get('b')!.createdAt);
      expect(store.lastCreatedAt('user-2')).toBe(store.get('other')!.createdAt);
      expect(store.lastCreatedAt('user-2')).toBeGreaterThan(store.lastCreatedAt('user-1')!);
    });

    it('finds a job by its card or by one of its result messages', () => {
      const { store } = setup();
      store.insertJob(newJob('j', { messageId: 'card-1' }));
      store.insertJob(newJob('k'));
      store.transition('j', ['queued'], 'succeeded');
      store.recordDelivery('j', { messageId: 'result-1', files: ['a.png'] });
      expect(store.byMessage('card-1')?.id).toBe('j');
      expect(store.byMessage('result-1')?.id).toBe('j');
      expect(store.byMessage('elsewhere')).toBeNull();
    });

    it('counts jobs a user created since a time', () => {
      const { store, clock } = setup();
      store.insertJob(newJob('a'));
      const since = clock.now() + 1;
      clock.advance(5);
      store.insertJob(newJob('b'));
      store.insertJob(newJob('c', { ownerId: 'user-2' }));
      expect(store.countJobsSince('user-1', 0)).toBe(2);
      expect(store.countJobsSince('user-1', since)).toBe(1);
      expect(store.countJobsSince('user-2', since)).toBe(1);
    });
  });

  describe('deliveries', () => {
    it('records which files went in which message, exactly once', () => {
      const { store, clock } = setup();
      store.insertJob(newJob('j'));
      store.transition('j', ['queued'], 'running');
      store.transition('j', ['running'], 'succeeded');
      expect(store.pendingDeliveries().map((j) => j.id)).toEqual(['j']);

      store.recordDelivery('j', { messageId: 'm1', files: ['a.png', 'b.png'], complete: false });
      expect(store.get('j')?.delivery).toBe('pending');
      expect(() => store.recordDelivery('j', { messageId: 'm2', files: ['c.png', 'b.png'] })).toThrow(
        'output b.png of job j was already delivered in message m1',
      );
      // The failed call wrote nothing: c.png is still deliverable and the job still pending.
      expect(store.get('j')?.deliveries).toEqual([{ messageId: 'm1', files: ['a.png', 'b.png'], at: clock.now() }]);
      expect(store.pendingDeliveries()).toHaveLength(1);

      clock.advance(100);
      store.recordDelivery('j', { messageId: 'm2', files: ['c.png'] });
      const row = store.get('j')!;
      expect(row.delivery).toBe('delivered');
      expect(row.deliveries).toEqual([
        { messageId: 'm1', files: ['a.png', 'b.png'], at: clock.now() - 100 },
        { messageId: 'm2', files: ['c.png'], at: clock.now() },
      ]);
      expect(store.pendingDeliveries()).toEqual([]);
      expect(() => store.recordDelivery('ghost', { messageId: 'm', files: [] })).toThrow('no job ghost in the store');
    });

    it('lists pending deliveries oldest first, only for succeeded jobs', () => {
      const { store, clock } = setup();
      for (const id of ['late', 'early', 'failed']) store.insertJob(newJob(id));
      store.transition('early', ['queued'], 'succeeded');
      clock.advance(10);
      store.transition('late', ['queued'], 'succeeded');
      store.transition('failed', ['queued'], 'failed', { error: 'boom' });
      store.updateJob('failed', { delivery: 'pending' });
      expect(store.pendingDeliveries().map((j) => j.id)).toEqual(['early', 'late']);
    });
  });

  describe('interaction tokens', () => {
    const token = (clock: { now(): number }) => ({ token: 'secret-interaction-token', expiresAt: clock.now() + 900_000 });

    it('are dropped when the job is delivered, and not before', () => {
      const { store, clock } = setup();
      store.insertJob(newJob('j', { interaction: token(clock) }));
      store.transition('j', ['queued'], 'running');
      store.transition('j', ['running'], 'succeeded');
      store.recordDelivery('j', { messageId: 'm1', files: ['a.png'], complete: false });
      expect(store.get('j')?.interaction?.token).toBe('secret-interaction-token');
      store.recordDelivery('j', { messageId: 'm1', files: ['b.png'] });
      expect(store.get('j')?.interaction).toBeNull();
    });

    it('are dropped when a job fails or is cancelled', () => {
      const { store, clock } = setup();
      for (const id of ['f', 'c']) store.insertJob(newJob(id, { interaction: token(clock) }));
      store.transition('f', ['queued'], 'failed', { error: 'boom' });
      store.transition('c', ['queued'], 'cancelled');
      expect(store.get('f')?.interaction).toBeNull();
      expect(store.get('c')?.interaction).toBeNull();
    });

    it('are dropped at start-up once expired, and kept while still usable', () => {
      const { store, clock, dataDir } = setup();
      store.insertJob(newJob('old', { interaction: token(clock) }));
      clock.advance(600_000);
      store.insertJob(newJob('new', { interaction: token(clock) }));
      store.close();
      open = [];
      clock.advance(300_001);
      const reopened = engine.open({ dataDir, clock });
      open.push(reopened);
      expect(reopened.get('old')?.interaction).toBeNull();
      expect(reopened.get('new')?.interaction?.token).toBe('secret-interaction-token');
    });

    it('no raw column keeps a token once the card moved (updateJob with interaction null)', () => {
      const { store, clock, dataDir } = setup();
      store.insertJob(newJob('j', { interaction: token(clock) }));
      store.updateJob('j', { messageId: 'm9', interaction: null });
      store.close();
      open = [];
      const dump = JSON.stringify(engine.raw(dataDir, 'SELECT * FROM jobs'));
      expect(dump).not.toContain('secret-interaction-token');
    });
  });

  describe('daily usage', () => {
    it('counts per user per UTC day', () => {
      const { store, clock } = setup();
      expect(store.addUsage('u')).toBe(1);
      expect(store.addUsage('u', 2)).toBe(3);
      expect(store.usage('u')).toBe(3);
      expect(store.usage('someone-else')).toBe(0);
      clock.advance(DAY);
      expect(store.usage('u')).toBe(0);
      expect(store.usage('u', '2026-11-28')).toBe(3);
      expect(() => store.addUsage('u', 0)).toThrow('usage must grow by a positive integer, got 0');
    });
  });

  describe('modes', () => {
    it("keeps each job's mode and each member's chosen mode, and sums GPU time by mode", () => {
      const { store, clock } = setup();
      expect(insertAndRead(store, newJob('fast-1')).mode).toBe('fast');
      expect(insertAndRead(store, newJob('relax-1', { mode: 'relax' })).mode).toBe('relax');
      for (const [id, gpuMs] of [['fast-1', 4_000], ['relax-1', 9_000]] as const) {
        store.transition(id, ['queued'], 'succeeded', { gpuMs, finishedAt: clock.now() });
      }
      expect(store.gpuMsSince('user-1', 0)).toBe(13_000);
      expect(store.gpuMsSince('user-1', 0, 'fast')).toBe(4_000);
      expect(store.gpuMsSince('user-1', 0, 'relax')).toBe(9_000);
      expect(store.userMode('user-1')).toBe('fast');
      store.setUserMode('user-1', 'relax');
      store.setUserMode('user-1', 'relax');
      expect(store.userMode('user-1')).toBe('relax');
      expect(store.userMode('user-2')).toBe('fast');
    });
  });

  describe('persistence', () => {
    it('keeps everything across close and reopen', () => {
      const { store, dataDir } = setup();
      store.insertJob(newJob('j', { images: [{ option: 'image', filename: 'i.png', mime: 'image/png', bytes: Buffer.from('i') }] }));
      store.transition('j', ['queued'], 'succeeded');
      store.recordDelivery('j', { messageId: 'm', files: ['o.png'] });
      store.setGuildSettings('100', { spoilerResults: true });
      store.setUserDefaults('user-1', 'imagine', { steps: 30 });
      store.addUsage('user-1');
      const before = store.get('j');
      store.close();
      open = [];

      const reopened = engine.open({ dataDir, clock: manualClock() });
      open.push(reopened);
      expect(reopened.get('j')).toEqual(before);
      expect(readFileSync(reopened.get('j')!.images[0]!.path).toString()).toBe('i');
      expect(reopened.guildSettings('100').spoilerResults).toBe(true);
      expect(reopened.userDefaults('user-1', 'imagine')).toEqual({ steps: 30 });
      expect(reopened.usage('user-1')).toBe(1);
    });
  });

  describe('prune', () => {
    it('deletes finished jobs older than the retention, with their unshared files', () => {
      const { store, clock, dataDir } = setup();
      const img = (s: string) => [{ option: 'image', filename: `${s}.png`, mime: 'image/png', bytes: Buffer.from(s) }];
      store.insertJob(newJob('old-done', { images: img('shared') }));
      store.insertJob(newJob('old-failed', { images: img('alone') }));
      store.insertJob(newJob('old-pending'));
      store.insertJob(newJob('old-queued'));
      store.transition('old-done', ['queued'], 'succeeded');
      store.recordDelivery('old-done', { messageId: 'm', files: ['x.png'] });
      store.transition('old-failed', ['queued'], 'failed');
      store.transition('old-pending', ['queued'], 'succeeded');
      store.addUsage('user-1');
      clock.advance(31 * DAY);
      store.insertJob(newJob('recent', { images: img('shared') }));
      store.transition('recent', ['queued'], 'cancelled');
      store.addUsage('user-1');

      expect(store.prune(30)).toBe(2);
      expect(['old-done', 'old-failed', 'old-pending', 'old-queued', 'recent'].filter((id) => store.get(id))).toEqual([
        'old-pending',
        'old-queued',
        'recent',
      ]);
      expect(readdirSync(join(dataDir, 'inputs'))).toHaveLength(1);
      expect(readFileSync(store.get('recent')!.images[0]!.path).toString()).toBe('shared');
      expect(store.usage('user-1', '2026-11-28')).toBe(0);
      expect(store.usage('user-1')).toBe(1);
      expect(store.prune(30)).toBe(0);
      expect(() => store.prune(0)).toThrow('prune needs a positive number of days, got 0');
    });
  });

  describe("servers' own commands", () => {
    it('keeps them per server, refuses a second of the same name there, and removes them', () => {
      const { store, clock, dataDir } = setup();
      const row = { guildId: '10', name: 'fox', commandFile: 'name: fox\n', template: '{"1":{}}', createdBy: '7' };
      expect(store.insertGuildCommand(row)).toBe(true);
      expect(store.insertGuildCommand({ ...row, commandFile: 'other' })).toBe(false);
      expect(store.insertGuildCommand({ ...row, guildId: '11' })).toBe(true);
      expect(store.guildCommands('10')).toEqual([{ ...row, createdAt: clock.now() }]);
      expect(store.guildCommands().map((r) => r.guildId)).toEqual(['10', '11']);
      store.close();
      open = [];
      const reopened = setup(dataDir).store;
      expect(reopened.guildCommands('10')[0]?.commandFile).toBe('name: fox\n');
      expect(reopened.deleteGuildCommand('10', 'fox')).toBe(true);
      expect(reopened.deleteGuildCommand('10', 'fox')).toBe(false);
      expect(reopened.guildCommands('10')).toEqual([]);
      expect(reopened.guildCommands('11')).toHaveLength(1);
    });
  });
});
