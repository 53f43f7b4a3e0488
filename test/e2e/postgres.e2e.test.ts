// The real bot with COMFYCORD_DATABASE_URL: its job store is the test run's real PostgreSQL (a fresh schema),
// and one /imagine goes from queued to delivered with every state written there; no SQLite file is made.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SyncPg } from '../../src/jobs/pg-bridge.js';
import { currentRevision } from '../fakes/discord/index.js';
import { freshSchemaUrl } from '../pg/schema.js';
import { embedOf, finalCardOf, useE2E } from './harness.js';

let databaseUrl = '';
const e2e = useE2E({
  env: () => {
    databaseUrl = freshSchemaUrl();
    return { COMFYCORD_DATABASE_URL: databaseUrl };
  },
});

let db: SyncPg | undefined;
afterAll(() => db?.close());

describe('the bot on PostgreSQL', () => {
  it('runs a job end to end with its store in PostgreSQL', async () => {
    expect(e2e().bot.lines.some((line) => line.includes('"engine":"postgres"') && line.includes('job store open'))).toBe(true);
    const { token } = await e2e().discord.slash('imagine', { prompt: 'a harbour in fog', steps: 4 });
    const card = currentRevision(await finalCardOf(e2e(), token, 'Done'));
    expect(embedOf(card)?.description).toContain('✅ 1 image');

    db = new SyncPg(databaseUrl);
    const rows = db.query("SELECT state, delivery, owner_id, gpu_ms FROM jobs WHERE params LIKE '%harbour in fog%'").rows;
    expect(rows).toEqual([{ state: 'succeeded', delivery: 'delivered', owner_id: expect.any(String), gpu_ms: expect.any(Number) }]);
    expect(db.query('SELECT COUNT(*) AS n FROM deliveries').rows).toEqual([{ n: 1 }]);
    expect(existsSync(join(e2e().dataDir, 'comfycord.db'))).toBe(false);
  });
});
