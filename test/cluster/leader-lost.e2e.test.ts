// What members see while the leader is lost: three real bot processes sharing a real PostgreSQL store, the fake
// Discord and a fake ComfyUI holding the jobs. The leader is SIGKILLed with one job running and one behind it;
// before any standby can take the lease, exactly one standby edits each card once to say the leader was lost, and
// the process that takes over then continues the cards (the notice gone) and finishes each job once.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FakeComfy } from '../fakes/comfy/index.js';
import { currentRevision, type FakeDiscord, type StoredMessage } from '../fakes/discord/index.js';
import { JobTracker, titleNow } from '../durability/e2e-jobs.js';
import { Cluster, guildIdOnShard, isLeading, openClusterWorld, type ClusterWorld } from './harness.js';

/**
 * Long enough for the notice (the leader three 1-s periods late) to come well before the lease passes on (written
 * for 7 s, the notice's edits sent no later than a period before that); production's default is 10 s.
 */
const LEASE_SECONDS = 8;
const NOTICE = 'The bot lost its leader process';
const MEMBER = '700000000000000301';
/** On a standby's shard (1 of 3): the member's commands reach a process that outlives the leader. */
const GUILD = guildIdOnShard(1, 3);

let discord: FakeDiscord;
let comfy: FakeComfy;
let world: ClusterWorld;
let cluster: Cluster;

const alive = () => cluster.alive().map((n) => n.bot);
const descriptionOf = (message: StoredMessage) => String((currentRevision(message).embeds[0] as { description?: unknown } | undefined)?.description ?? '');

beforeAll(async () => {
  world = await openClusterWorld({
    name: 'leader-lost',
    guilds: [{ id: GUILD, name: 'server' }],
    members: [{ id: MEMBER, username: 'member', guildId: GUILD }],
    shards: 3,
    leaseSeconds: LEASE_SECONDS,
  });
  ({ discord, comfy, cluster } = world);
}, 120_000);

afterAll(async () => {
  await world?.close();
}, 60_000);

it("tells each unfinished card once that the leader was lost, before the next leader's first edit removes it; each job finishes once", async () => {
  const tracker = new JobTracker(comfy, discord);
  comfy.hold();
  const running = await tracker.submit('leader-lost-running', MEMBER, { steps: 4 }, { guildId: GUILD });
  await discord.waitFor((d) => (/Running/.test(titleNow(d, running)) ? true : undefined), { timeoutMs: 15_000, description: 'the first job running' });
  const waiting = await tracker.submit('leader-lost-waiting', MEMBER, { steps: 4 }, { guildId: GUILD });
  await discord.waitFor((d) => (/Queued|Running/.test(titleNow(d, waiting)) ? true : undefined), { timeoutMs: 15_000, description: 'the second job accepted' });
  const jobs = [running, waiting];
  const cards = jobs.map((job) => discord.originalFor(job.token)!);

  // Every edit of the two cards from the kill on, as the members see them.
  const shown = new Map<string, string[]>(cards.map((card) => [card.id, []]));
  const onUpdate = (message: StoredMessage) => shown.get(message.id)?.push(descriptionOf(message));
  discord.events.on('message-update', onUpdate);
  const leader = cluster.leader().bot;
  leader.child.kill('SIGKILL');
  await leader.exited;

  await discord.waitFor(() => (cards.every((card) => descriptionOf(discord.messages.find((m) => m.id === card.id)!).includes(NOTICE)) ? true : undefined), {
    timeoutMs: 20_000,
    description: 'both cards telling that the leader was lost',
  });
  // No standby leads yet: the lease has not passed on.
  expect(alive().some((b) => b.lines.some(isLeading))).toBe(false);
  await Promise.any(alive().map((b) => b.waitForLine(isLeading, 30_000, 'a standby to take the lease')));
  comfy.release();
  await discord.waitFor(() => (tracker.openJobs().length === 0 ? true : undefined), { timeoutMs: 60_000, description: 'both jobs ended' });
  discord.events.off('message-update', onUpdate);

  for (const card of cards) {
    const edits = shown.get(card.id)!;
    // The notice first, once (one process, one edit), then the new leader's edits without it.
    expect(edits[0]).toContain(NOTICE);
    expect(edits.filter((text) => text.includes(NOTICE))).toHaveLength(1);
    expect(edits.length).toBeGreaterThan(1);
    expect(edits.at(-1)).not.toContain(NOTICE);
  }
  // Exactly one standby told the members.
  expect(alive().filter((b) => b.lines.some((line) => line.includes('telling the members on their cards')))).toHaveLength(1);
  for (const job of jobs) expect(tracker.verdict(job).kind).toBe('delivered');
  // The running job was adopted by its prompt id, not submitted again.
  expect(new Set(running.promptIds).size).toBe(1);
}, 120_000);
