// Cancels that are never lost, across real bot processes sharing one real PostgreSQL store (3 shards, a server on
// each, one fake ComfyUI that runs one prompt at a time). A Cancel press or `/cancel` reaches whichever process
// holds the member's shard; that process records the request in the job's row and wakes the leader. With the
// leader alive, it cancels at once; with the leader SIGKILLed, the request waits in the row and the next leader
// carries it out while adopting the job: the queued one is never sent to ComfyUI, the running one is interrupted,
// each card says who cancelled, and nothing is delivered.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SyncPg } from '../../src/jobs/pg-bridge.js';
import type { FakeComfy } from '../fakes/comfy/index.js';
import { currentRevision, type FakeDiscord } from '../fakes/discord/index.js';
import { buttonId, ephemeralAnswerOf } from '../e2e/harness.js';
import { JobTracker, titleNow, type TrackedJob } from '../durability/e2e-jobs.js';
import { Cluster, guildIdOnShard, isLeading, openClusterWorld, type ClusterWorld } from './harness.js';

const SHARDS = 3;
/**
 * Long enough that the presses made right after a SIGKILL land before a standby can take the lease (it expires
 * at least 4 s after the leader's last renewal), short enough to keep the failover quick.
 */
const LEASE_SECONDS = 6;

const GUILDS = Array.from({ length: SHARDS }, (_, shard) => guildIdOnShard(shard, SHARDS));
const MEMBERS = GUILDS.map((guildId, i) => ({ id: `70000000000000020${i}`, guildId, shard: i }));

let discord: FakeDiscord;
let comfy: FakeComfy;
let world: ClusterWorld;
let databaseUrl: string;
let cluster: Cluster;
let db: SyncPg;

beforeAll(async () => {
  world = await openClusterWorld({
    name: 'cancel',
    guilds: GUILDS.map((id, i) => ({ id, name: `server ${i}` })),
    members: MEMBERS.map((m) => ({ id: m.id, username: `member${m.shard}`, guildId: m.guildId })),
    shards: SHARDS,
    leaseSeconds: LEASE_SECONDS,
  });
  ({ discord, comfy, cluster, databaseUrl } = world);
  db = new SyncPg(databaseUrl);
}, 120_000);

afterAll(async () => {
  db?.close();
  await world?.close();
}, 60_000);

/** Members whose interactions reach a standby (not the leader's shard). */
function onStandbys(): typeof MEMBERS {
  const lead = cluster.leader();
  return MEMBERS.filter((m) => m.shard !== lead.shard);
}

async function accepted(job: TrackedJob, state: RegExp = /Queued|Running/): Promise<void> {
  await discord.waitFor((d) => state.test(titleNow(d, job)), { timeoutMs: 15_000, description: `${job.label} ${String(state)}` });
}

async function cancelledBy(job: TrackedJob, userId: string): Promise<void> {
  await discord.waitFor((d) => /Cancelled/.test(titleNow(d, job)), { timeoutMs: 30_000, description: `${job.label} cancelled` });
  expect(JSON.stringify(currentRevision(discord.originalFor(job.token)!).embeds)).toContain(`Cancelled by <@${userId}>`);
}

/** Waits until ComfyUI was asked to stop the job's prompt (an interrupt or a jobs-API cancel naming it). */
async function stopAsked(job: TrackedJob): Promise<void> {
  await discord.waitFor(
    () => job.promptIds.some((id) => comfy.requests.some((r) => r.method === 'POST' && /interrupt|cancel/.test(r.path) && JSON.stringify(r).includes(id))),
    { timeoutMs: 30_000, description: `ComfyUI asked to stop ${job.label}` },
  );
}

function resultsOf(tracker: JobTracker, job: TrackedJob): number {
  return tracker.messagesOf(job).filter((m) => m.history.some((r) => r.attachments.length > 0)).length;
}

function cancelRequestOf(job: TrackedJob): string | null {
  const row = db.query(`SELECT cancel_user FROM jobs WHERE params LIKE '%${job.label}%'`).rows[0];
  return (row?.cancel_user as string | null | undefined) ?? null;
}

it("cancels all of a member's jobs with /cancel typed on a standby, queued and running, and each card says who", async () => {
  const tracker = new JobTracker(comfy, discord);
  const member = onStandbys()[0]!;
  comfy.hold();
  const running = await tracker.submit('all-001', member.id, { steps: 4 }, { guildId: member.guildId });
  await accepted(running);
  await discord.waitFor(() => running.promptIds.length > 0, { timeoutMs: 15_000, description: 'the first job sent to ComfyUI' });
  const queued = await tracker.submit('all-002', member.id, { steps: 4 }, { guildId: member.guildId });
  await accepted(queued, /Queued/);

  const { token } = await discord.slash('cancel', {}, { userId: member.id, guildId: member.guildId });
  expect((await ephemeralAnswerOf(discord, token)).content).toBe('Cancelling your 2 jobs: their cards say so once stopped.');
  await cancelledBy(queued, member.id);
  await stopAsked(running);
  comfy.release();
  await cancelledBy(running, member.id);
  expect(queued.promptIds).toEqual([]);
  expect([resultsOf(tracker, running), resultsOf(tracker, queued)]).toEqual([0, 0]);
}, 60_000);

it('carries out a Cancel press and a /cancel made on standbys while the leader is dead, in the next leader', async () => {
  const tracker = new JobTracker(comfy, discord);
  const [presser, typer] = onStandbys() as [(typeof MEMBERS)[number], (typeof MEMBERS)[number]];
  const victim = cluster.leader();
  comfy.hold();
  const running = await tracker.submit('failover-001', presser.id, { steps: 4 }, { guildId: presser.guildId });
  await accepted(running);
  await discord.waitFor(() => running.promptIds.length > 0, { timeoutMs: 15_000, description: 'the job sent to ComfyUI' });
  // ComfyUI runs one prompt at a time: this one waits in the leader's queue.
  const queued = await tracker.submit('failover-002', typer.id, { steps: 4 }, { guildId: typer.guildId });
  await accepted(queued, /Queued/);

  victim.bot.child.kill('SIGKILL');
  await victim.bot.exited;
  const card = discord.originalFor(running.token)!;
  await discord.button(card.id, buttonId(currentRevision(card), 'cancel'), { userId: presser.id, guildId: presser.guildId });
  const { token } = await discord.slash('cancel', {}, { userId: typer.id, guildId: typer.guildId });
  expect((await ephemeralAnswerOf(discord, token)).content).toMatch(/^(Cancelling your 1 job|Cancel recorded for your 1 job)/);
  await discord.waitFor(() => cancelRequestOf(running) === presser.id && cancelRequestOf(queued) === typer.id, { timeoutMs: 15_000, description: 'both requests in the store' });
  // Recorded while nobody led: no NOTIFY could reach a leader, only the rows carry the requests.
  expect(cluster.alive().some((n) => n.bot.lines.some(isLeading))).toBe(false);

  await Promise.any(cluster.alive().map((n) => n.bot.waitForLine(isLeading, 30_000, 'a standby to take the lease')));
  await cancelledBy(queued, typer.id);
  await stopAsked(running);
  comfy.release();
  await cancelledBy(running, presser.id);
  // The queued job never reached ComfyUI; neither job posted anything.
  expect(queued.promptIds).toEqual([]);
  expect([resultsOf(tracker, running), resultsOf(tracker, queued)]).toEqual([0, 0]);
}, 90_000);
