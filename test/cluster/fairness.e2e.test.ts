// Fair across shards: two real bot processes sharing one real PostgreSQL store, each on its own gateway shard
// (a server on each), one fake ComfyUI that runs one prompt at a time. A member on the leader's shard fills the
// queue; a member on the standby's shard submits after them. Their jobs are admitted by different processes, but
// the leader's one fair queue orders them: the later server's job is dispatched next, not behind the first
// server's backlog.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FakeComfy } from '../fakes/comfy/index.js';
import type { FakeDiscord } from '../fakes/discord/index.js';
import { JobTracker, titleNow, type TrackedJob } from '../durability/e2e-jobs.js';
import { Cluster, guildIdOnShard, openClusterWorld, type ClusterWorld } from './harness.js';

const SHARDS = 2;
const GUILDS = Array.from({ length: SHARDS }, (_, shard) => guildIdOnShard(shard, SHARDS));
const BUSY = { id: '700000000000000401', guildId: GUILDS[0]! };
const LATER = { id: '700000000000000402', guildId: GUILDS[1]! };

let discord: FakeDiscord;
let comfy: FakeComfy;
let world: ClusterWorld;
let cluster: Cluster;

beforeAll(async () => {
  world = await openClusterWorld({
    name: 'fairness',
    guilds: GUILDS.map((id, i) => ({ id, name: `server ${i}` })),
    members: [{ ...BUSY, username: 'busy' }, { ...LATER, username: 'later' }],
    shards: SHARDS,
    leaseSeconds: 6,
  });
  ({ discord, comfy, cluster } = world);
}, 120_000);

afterAll(async () => {
  await world?.close();
}, 60_000);

it("dispatches a later server's job (admitted on a standby) before the rest of a busy server's backlog", async () => {
  // The first process leads and holds shard 0: the busy member's commands reach the leader, the later member's
  // the standby.
  expect(cluster.leader().shard).toBe(0);
  const tracker = new JobTracker(comfy, discord);
  const queued: string[] = [];
  comfy.events.on('prompt-queued', (promptId) => queued.push(promptId));
  const accepted = (job: TrackedJob) =>
    discord.waitFor((d) => /Queued|Running/.test(titleNow(d, job)), { timeoutMs: 15_000, description: `${job.label} accepted` });

  comfy.hold();
  const busy: TrackedJob[] = [];
  for (let i = 1; i <= 4; i += 1) {
    const job = await tracker.submit(`busy-${i}`, BUSY.id, { steps: 2 }, { guildId: BUSY.guildId });
    await accepted(job);
    busy.push(job);
  }
  // The first busy job holds the only slot; the other three wait in the leader's queue.
  await discord.waitFor(() => queued.length === 1, { timeoutMs: 15_000, description: 'the first job sent to ComfyUI' });
  const later = await tracker.submit('later-1', LATER.id, { steps: 2 }, { guildId: LATER.guildId });
  await accepted(later);
  comfy.release();
  await discord.waitFor(() => tracker.openJobs().length === 0, { timeoutMs: 60_000, description: 'every job ended' });

  const order = [...busy, later].sort((a, b) => queued.indexOf(a.promptIds[0]!) - queued.indexOf(b.promptIds[0]!)).map((j) => j.label);
  expect(order).toEqual(['busy-1', 'later-1', 'busy-2', 'busy-3', 'busy-4']);
  for (const job of [...busy, later]) expect(tracker.verdict(job).kind).toBe('delivered');
}, 120_000);
