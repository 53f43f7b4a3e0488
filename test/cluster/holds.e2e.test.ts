// Holds and queue views across processes (real PostgreSQL, two real bot processes on two gateway shards, the
// fake Discord and a fake ComfyUI). An operator's `/comfy pause everywhere:True` reaches a standby (its server is
// on the standby's shard): the standby writes it and wakes the leader, whose queue holds. The standby's /queue
// shows each member their place, and its /comfy status the backend's health, from the leader's published view
// (the standby holds no backend connection). The leader is SIGKILLed: the new leader keeps the hold (nothing
// reaches ComfyUI) until `/comfy resume everywhere:True`. A server drained on a standby refuses a member's job
// there, with the leader's words.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { SyncPg } from '../../src/jobs/pg-bridge.js';
import type { FakeComfy } from '../fakes/comfy/index.js';
import { currentRevision, type FakeDiscord } from '../fakes/discord/index.js';
import { shardFor } from '../fakes/discord/guild.js';
import { cardIn, ephemeralAnswerOf } from '../e2e/harness.js';
import { JobTracker } from '../durability/e2e-jobs.js';
import { Cluster, guildIdOnShard, openClusterWorld, type ClusterWorld } from './harness.js';

const SHARDS = 2;
const LEASE_SECONDS = 3;
/** The standby's server (shard 1) and the leader's (shard 0). */
const STANDBY_GUILD = guildIdOnShard(1, SHARDS);
const LEADER_GUILD = guildIdOnShard(0, SHARDS);
const OPERATOR = '7100000000000000001';
const ALICE = '7100000000000000002';
const BOB = '7100000000000000003';
const CAROL = '7100000000000000004';

let discord: FakeDiscord;
let comfy: FakeComfy;
let world: ClusterWorld;
let databaseUrl: string;
let cluster: Cluster;
let db: SyncPg;

beforeAll(async () => {
  world = await openClusterWorld({
    name: 'cluster-holds',
    guilds: [{ id: LEADER_GUILD, name: 'on the leader' }, { id: STANDBY_GUILD, name: 'on the standby' }],
    members: ([[OPERATOR, STANDBY_GUILD], [OPERATOR, LEADER_GUILD], [ALICE, STANDBY_GUILD], [BOB, STANDBY_GUILD], [CAROL, LEADER_GUILD]] as const).map(([id, guildId]) => ({ id, username: `member-${id.slice(-1)}`, roles: ['Member'], guildId })),
    shards: SHARDS,
    leaseSeconds: LEASE_SECONDS,
    env: { COMFYCORD_OPERATOR_IDS: OPERATOR },
  });
  ({ discord, comfy, cluster, databaseUrl } = world);
  db = new SyncPg(databaseUrl);
}, 120_000);

afterAll(async () => {
  db?.close();
  await world?.close();
}, 60_000);

/** The text of the ephemeral answer to a command typed by `userId` in `guildId`. */
async function answer(command: string, userId: string, guildId: string, options: Record<string, string | boolean> = {}): Promise<string> {
  const { token } = await discord.slash(command, options, { userId, guildId });
  const reply = await ephemeralAnswerOf(discord, token);
  return reply.content || JSON.stringify(reply.embeds);
}

/** The leader's last published view, read straight from the database. */
function published(): { fence: number; waiting: string[]; running: string[] } | null {
  const row = db.query("SELECT fence, view FROM leader_view WHERE name = 'leader'").rows[0];
  if (!row) return null;
  const view = JSON.parse(String(row.view)) as { waiting: { id: string }[]; running: { id: string }[] };
  return { fence: Number(row.fence), waiting: view.waiting.map((w) => w.id), running: view.running.map((r) => r.id) };
}

/**
 * The leader writes its view on its own tick, which no Discord or log event marks: the database is read until the
 * view says `check` (a bounded wait for a state, not a pause of a fixed length).
 */
async function untilPublished<T>(check: () => T | undefined | false, description: string): Promise<T> {
  let found: T | undefined | false;
  await vi.waitFor(
    () => {
      found = check();
      if (!found) throw new Error(`no ${description} yet; the view: ${JSON.stringify(published())}`);
    },
    { timeout: 20_000, interval: 100 },
  );
  return found as T;
}

function jobIdsOf(userId: string): string[] {
  return db.query(`SELECT id FROM jobs WHERE owner_id = '${userId}' ORDER BY created_at`).rows.map((r) => String(r.id));
}

const prompts = () => comfy.requests.filter((r) => r.method === 'POST' && /\/prompt$/.test(r.path));

/** The held jobs (the first test submits them, the second finishes them) and the fencing number of their first view. */
let tracker: JobTracker;
let firstFence: number;

it("holds the leader's queue with a pause sent to a standby, and the standby's /queue shows each member's place", async () => {
  const [leader, standby] = cluster.nodes;
  expect(cluster.leader()).toBe(leader);
  expect(shardFor(STANDBY_GUILD, SHARDS)).toBe(standby!.shard);

  expect(await answer('comfy pause', OPERATOR, STANDBY_GUILD, { everywhere: true })).toBe(
    'Paused everywhere: jobs are still accepted but wait until /comfy resume everywhere:True.',
  );
  // The standby took the command; the leader obeys it from the store.
  await standby!.bot.waitForLine((line) => line.includes('/comfy control'), 5_000, 'the standby to log the command');
  expect(leader!.bot.lines.some((line) => line.includes('/comfy control'))).toBe(false);

  tracker = new JobTracker(comfy, discord);
  await tracker.submit('held-a', ALICE, { steps: 4 }, { guildId: STANDBY_GUILD });
  await tracker.submit('held-b', BOB, { steps: 4 }, { guildId: STANDBY_GUILD });
  const ids = await untilPublished(() => {
    const [a] = jobIdsOf(ALICE);
    const [b] = jobIdsOf(BOB);
    return a && b && published()?.waiting.length === 2 ? { a, b } : undefined;
  }, "both jobs waiting in the leader's published view");
  const view = published()!;
  firstFence = view.fence;
  expect(view.running).toEqual([]);

  const place = (id: string) => view.waiting.indexOf(id) + 1;
  expect(await answer('queue', ALICE, STANDBY_GUILD)).toContain(`#${place(ids.a)} in line`);
  expect(await answer('queue', BOB, STANDBY_GUILD)).toContain(`#${place(ids.b)} in line`);
  expect([place(ids.a), place(ids.b)].sort()).toEqual([1, 2]);
  // The standby holds no backend connection: the backend's health is the leader's word.
  const status = await answer('comfy status', OPERATOR, STANDBY_GUILD);
  expect(status).toContain('1 of 1 up · 2 jobs waiting · ⏸️ paused (jobs wait)');
  expect(prompts()).toEqual([]);
}, 60_000);

it('keeps the hold when the leader is SIGKILLed, and runs the jobs on resume', async () => {
  const old = cluster.leader();
  old.bot.child.kill('SIGKILL');
  await old.bot.exited;
  const next = await cluster.nextLeader();
  // The new leader published after its recovery adopted both jobs: had it not obeyed the pause, they would be running.
  await untilPublished(() => {
    const view = published();
    return view !== null && view.fence > firstFence && view.waiting.length === 2;
  }, "the new leader's view with both jobs waiting");
  expect(published()!.running).toEqual([]);
  expect(prompts()).toEqual([]);
  expect(await answer('comfy status', OPERATOR, STANDBY_GUILD)).toContain('paused (jobs wait)');

  // A replacement on the old shard stands by (and serves the next test).
  await cluster.ready(cluster.spawn(old.shard));
  expect(cluster.leader()).toBe(next);

  expect(await answer('comfy resume', OPERATOR, STANDBY_GUILD, { everywhere: true })).toBe('Resumed everywhere: jobs start again.');
  await discord.waitFor(() => tracker.openJobs().length === 0, { timeoutMs: 30_000, description: 'both jobs finished' });
  expect(tracker.jobs.map((job) => tracker.verdict(job).kind)).toEqual(['delivered', 'delivered']);
}, 90_000);

it("refuses on a standby a member's job from a server drained there, with the leader's words", async () => {
  const standby = cluster.alive().find((n) => n !== cluster.leader())!;
  expect(shardFor(LEADER_GUILD, SHARDS)).toBe(standby.shard);
  expect(await answer('comfy drain', OPERATOR, LEADER_GUILD)).toBe(
    'Draining this server: no new jobs from it are taken; 0 jobs from this server still to finish. /comfy resume takes jobs again.',
  );
  const { token } = await discord.slash('imagine', { prompt: 'refused', steps: 4 }, { userId: CAROL, guildId: LEADER_GUILD });
  const card = await discord.waitFor((d) => cardIn(d, token, 'Not queued'), { timeoutMs: 15_000, description: 'the job refused' });
  expect(JSON.stringify(currentRevision(card).embeds)).toContain("this server's admins have stopped taking new jobs for now");
  expect(jobIdsOf(CAROL)).toEqual([]);
}, 60_000);
