// The real bot with COMFYCORD_DATABASE_URL: its job store is the test run's real PostgreSQL (a fresh schema).
// One /imagine goes from queued to delivered with every state written there (no SQLite file is made), and a job
// running when the process is SIGKILLed finishes on its original card after a restart, delivered once.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { SyncPg } from '../../src/jobs/pg-bridge.js';
import { currentRevision } from '../fakes/discord/index.js';
import { freshSchemaUrl } from '../pg/schema.js';
import { botReady, cardIn, embedOf, finalCardOf, spawnBot, titleOf, useE2E } from './harness.js';

let databaseUrl = '';
const e2e = useE2E({
  env: () => {
    databaseUrl = freshSchemaUrl();
    return { COMFYCORD_DATABASE_URL: databaseUrl };
  },
});

let db: SyncPg | undefined;
let listener: pg.Client | undefined;
afterAll(async () => {
  db?.close();
  await listener?.end();
});

/**
 * Once listening, gives a promise of the id of the next job the bot marks delivered in its store: a trigger on
 * its jobs table sends a notification, so the test waits for the write itself rather than for the card, which is
 * edited just before it.
 */
async function nextDelivered(): Promise<{ jobId: Promise<string> }> {
  if (!listener) {
    listener = new pg.Client({ connectionString: databaseUrl });
    await listener.connect();
    await listener.query(`CREATE FUNCTION notify_delivered() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.delivery = 'delivered' THEN PERFORM pg_notify('delivered', NEW.id); END IF; RETURN NEW; END $$`);
    await listener.query('CREATE TRIGGER delivered AFTER UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION notify_delivered()');
    await listener.query('LISTEN delivered');
  }
  const client = listener;
  // Listening before the caller goes on: the returned promise cannot miss the write.
  // (Wrapped: an async function would flatten a returned promise into its own.)
  return { jobId: new Promise<string>((resolve) => client.once('notification', (n) => resolve(n.payload ?? ''))) };
}

describe('the bot on PostgreSQL', () => {
  it('runs a job end to end with its store in PostgreSQL', async () => {
    expect(e2e().bot.lines.some((line) => line.includes('"engine":"postgres"') && line.includes('job store open'))).toBe(true);
    const delivered = await nextDelivered();
    const { token } = await e2e().discord.slash('imagine', { prompt: 'a harbour in fog', steps: 4 });
    const card = currentRevision(await finalCardOf(e2e(), token, 'Done'));
    const jobId = await delivered.jobId;
    expect(embedOf(card)?.description).toContain('✅ 1 image');

    db ??= new SyncPg(databaseUrl);
    const rows = db.query('SELECT state, delivery, owner_id, gpu_ms FROM jobs WHERE id = $1', [jobId]).rows;
    expect(rows).toEqual([{ state: 'succeeded', delivery: 'delivered', owner_id: expect.any(String), gpu_ms: expect.any(Number) }]);
    expect(db.query('SELECT COUNT(*) AS n FROM deliveries').rows).toEqual([{ n: 1 }]);
    expect(existsSync(join(e2e().dataDir, 'comfycord.db'))).toBe(false);
  });

  it('finishes a job that was running when the process was SIGKILLed, delivered once, from PostgreSQL', async () => {
    e2e().comfy.hold();
    const { token } = await e2e().discord.slash('imagine', { prompt: 'a lighthouse after a crash', steps: 4 });
    const card = await e2e().discord.waitFor((d) => cardIn(d, token, 'Running'), { timeoutMs: 10_000 });
    // The card's message id reaches the store from Discord's answer to its first edit; a second edit of the reply
    // (the elapsed-time tick, every 5 s, while ComfyUI is held) means the bot has handled that answer.
    await e2e().discord.waitFor(
      (d) => d.requests.filter((r) => r.method === 'PATCH' && r.status === 200 && r.path.endsWith('/messages/@original') && r.path.includes(token)).length >= 2,
      { timeoutMs: 15_000, description: "the card's second edit" },
    );
    const run = e2e();
    await run.bot.kill('SIGKILL');
    run.bot = spawnBot(run, { dataDir: run.dataDir, env: { COMFYCORD_DATABASE_URL: databaseUrl } });
    await botReady(run);
    await run.bot.waitForLine((line) => line.includes('jobs recovered from the store'), 10_000, 'recovery');
    const delivered = await nextDelivered();
    run.comfy.release();
    const done = await run.discord.waitFor((d) => {
      const message = d.message(card.id);
      return message && titleOf(currentRevision(message)).endsWith('Done') ? message : undefined;
    }, { timeoutMs: 20_000, description: 'the original card to show the result' });
    expect(currentRevision(done).attachments).toHaveLength(1);
    const jobId = await delivered.jobId;
    db ??= new SyncPg(databaseUrl);
    expect(db.query("SELECT id, state, delivery FROM jobs WHERE params LIKE '%after a crash%'").rows).toEqual([
      { id: jobId, state: 'succeeded', delivery: 'delivered' },
    ]);
    expect(db.query('SELECT COUNT(*) AS n FROM deliveries WHERE job_id = $1', [jobId]).rows).toEqual([{ n: 1 }]);
  }, 60_000);
});
