// One of several processes racing on one store (run by concurrency.test.ts with `node --import tsx`): opens the
// store, says "ready", waits for "go" on stdin so every racer starts together, then runs its part and prints
// its results as one JSON line.
import { createInterface } from 'node:readline';
import { openJobStore } from '../../src/jobs/store.js';

interface Orders {
  dataDir: string;
  databaseUrl?: string;
  /** Admit `attempts` jobs for these owners (round robin) under these caps. */
  admit?: { prefix: string; owners: string[]; guildId: string; attempts: number; caps: { userLive?: number; guildLive?: number; dailyQuota?: number } };
  /** Move each of these running jobs to `to`. */
  finish?: { ids: string[]; to: 'succeeded' | 'cancelled' };
}

const orders = JSON.parse(process.argv[2]!) as Orders;
const store = openJobStore({ dataDir: orders.dataDir, databaseUrl: orders.databaseUrl });
const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
for await (const line of lines) if (line === 'go') break;
lines.close();

const admitted: string[] = [];
const refused: string[] = [];
const finished: string[] = [];
if (orders.admit) {
  const { prefix, owners, guildId, attempts, caps } = orders.admit;
  for (let i = 0; i < attempts; i++) {
    const id = `${prefix}-${i}`;
    const job = { id, promptId: id, ownerId: owners[i % owners.length]!, guildId, channelId: 'c', command: 'draw', params: {}, workflow: {} };
    const outcome = store.admitJob(job, caps);
    if (outcome.admitted) admitted.push(id);
    else refused.push(`${id}:${outcome.limit}`);
  }
}
if (orders.finish) {
  for (const id of orders.finish.ids) if (store.transition(id, ['running'], orders.finish.to)) finished.push(id);
}
store.close();
process.stdout.write(`${JSON.stringify({ admitted, refused, finished })}\n`);
