// 13. Jobs per second through one bot process and through three sharing PostgreSQL. The same workload both times:
// JOBS /imagine jobs (one sampler step, no previews: near-instant on the fake ComfyUIs) from many members spread over
// three servers, one per gateway shard of the fake Discord, all sent at once. One process opens the three shards
// itself; three processes open one shard each, so two thirds of the interactions reach standbys, which admit the
// job in the store and wake the leader (LISTEN/NOTIFY), which runs every job and edits every card. Measured: jobs per
// second from the first slash command to the last Done card, and the time from each member's command to its Done card.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyncPg } from '../src/jobs/pg-bridge.js';
import { currentRevision, startFakeDiscord, type FakeDiscord, type StoredMessage } from '../test/fakes/discord/index.js';
import { shardFor } from '../test/fakes/discord/guild.js';
import { spawnBot, stopBot, TEMPLATE_CHECKPOINT, type BotProcess } from '../test/e2e/harness.js';
import { startPgServer } from '../test/pg/server.js';
import { startComfyPool, type ComfyPool } from './fakes.js';
import { now } from './ipc.js';
import { atLeast, atMost, fixed, type BenchResult } from './report.js';
import { p95 } from './stats.js';

const JOBS = 180;
const SHARDS = 3;
const MEMBERS_PER_SERVER = 20;
const BACKENDS = 3;
const isLeading = (line: string) => line.includes('leading: backends connected');
const titleOf = (message: StoredMessage) => String((currentRevision(message).embeds[0] as { title?: unknown } | undefined)?.title ?? '');

interface RunFigures {
  jobsPerSecond: number;
  /** Each member's command to its Done card, ms. */
  doneMs: number[];
  failed: number;
}

/** One server per shard: a snowflake whose events Discord routes to that shard. */
function guildIdOnShard(shard: number): string {
  let id = (BigInt(Date.now() - 1_420_070_400_000) << 22n) | 1n;
  while (shardFor(String(id), SHARDS) !== shard) id += 1n << 22n;
  return String(id);
}

/** A schema of its own on the bench's server, so each run starts from an empty store. */
function freshSchema(serverUrl: string, name: string): string {
  const admin = new SyncPg(serverUrl);
  try {
    admin.query(`CREATE SCHEMA ${name}`);
  } finally {
    admin.close();
  }
  return `${serverUrl}?options=${encodeURIComponent(`-c search_path=${name}`)}`;
}

async function runWith(processes: 1 | 3, databaseUrl: string, pool: ComfyPool): Promise<RunFigures> {
  const root = mkdtempSync(join(tmpdir(), 'comfycord-bench-cluster-'));
  const guilds = Array.from({ length: SHARDS }, (_, shard) => guildIdOnShard(shard));
  const discord: FakeDiscord = await startFakeDiscord({ clock: 'manual', heartbeatIntervalMs: 500, guilds: guilds.map((id, i) => ({ id, name: `server ${i}` })) });
  const members = guilds.flatMap((guildId, g) => Array.from({ length: MEMBERS_PER_SERVER }, (_, i) => ({ id: `8100000000000${g}${String(i).padStart(4, '0')}`, guildId })));
  for (const member of members) discord.addMember({ id: member.id, username: `m${member.id.slice(-5)}`, guildId: member.guildId });
  const bots: BotProcess[] = [];
  try {
    const shardSets = processes === 1 ? [guilds.map((_, shard) => shard)] : guilds.map((_, shard) => [shard]);
    for (const shards of shardSets) {
      const bot = spawnBot(
        { discord, comfy: pool.fakes[0]! },
        {
          dataDir: join(root, 'data'),
          logLevel: 'info',
          env: {
            COMFY_URL: pool.backends.map((b) => b.url).join(','),
            COMFYCORD_DATABASE_URL: databaseUrl,
            COMFYCORD_SHARDS: shards.join(','),
            COMFYCORD_SHARD_COUNT: String(SHARDS),
          },
        },
      );
      bots.push(bot);
    }
    await Promise.all(bots.map((b) => b.waitForLine((line) => line.includes('comfycord is running'), 60_000, 'the bot to start')));
    await Promise.any(bots.map((b) => b.waitForLine(isLeading, 60_000, 'a process to lead')));
    // A moment for every process's gateway to be ready: one command per server, answered, before the measured burst.
    for (const guildId of guilds) {
      const { token } = await discord.slash('imagine', { prompt: 'warm-up', steps: 1 }, { guildId, userId: members.find((m) => m.guildId === guildId)!.id });
      await discord.waitFor(
        (d) => {
          const card = d.originalFor(token);
          return card !== undefined && /· Done$/.test(titleOf(card));
        },
        { timeoutMs: 60_000, description: 'the warm-up job done' },
      );
    }

    const sentAt = new Map<string, number>();
    const doneAt = new Map<string, number>();
    const failedIds = new Set<string>();
    const tokens: string[] = [];
    const onUpdate = (message: StoredMessage) => {
      const token = message.interactionToken;
      if (token === undefined || token === null || !sentAt.has(token) || doneAt.has(token)) return;
      const title = titleOf(message);
      if (/· Done$/.test(title)) doneAt.set(token, now());
      else if (/· (Failed|Cancelled|Not queued)$/.test(title)) {
        doneAt.set(token, now());
        failedIds.add(token);
      }
    };
    discord.events.on('message-update', onUpdate);
    const start = now();
    // Three jobs per member, interleaved across servers so every shard is busy from the start.
    await Promise.all(
      Array.from({ length: JOBS }, async (_, n) => {
        const member = members[n % members.length]!;
        const at = now();
        const { token } = await discord.slash('imagine', { prompt: `cluster-${n}`, steps: 1 }, { guildId: member.guildId, userId: member.id });
        sentAt.set(token, at);
        tokens.push(token);
      }),
    );
    await discord.waitFor(() => doneAt.size === JOBS, { timeoutMs: 300_000, description: `all ${JOBS} jobs ended` });
    discord.events.off('message-update', onUpdate);
    const end = Math.max(...doneAt.values());
    return {
      jobsPerSecond: JOBS / ((end - start) / 1000),
      doneMs: tokens.map((t) => doneAt.get(t)! - sentAt.get(t)!),
      failed: failedIds.size,
    };
  } finally {
    await Promise.all(bots.map((b) => stopBot(b)));
    await discord.close();
    rmSync(root, { recursive: true, force: true });
  }
}

export async function runCluster(): Promise<BenchResult> {
  const server = await startPgServer();
  const pool = await startComfyPool(BACKENDS, { objectInfo: 'full', models: { checkpoints: [TEMPLATE_CHECKPOINT] }, samplerSteps: 1, stepDelayMs: 1, previewMethod: 'none' });
  try {
    const one = await runWith(1, freshSchema(server.url, 'one_process'), pool);
    const three = await runWith(3, freshSchema(server.url, 'three_processes'), pool);
    const ratio = three.jobsPerSecond / one.jobsPerSecond;
    const failed = one.failed + three.failed;
    return {
      rows: [
        { benchmark: 'cluster', figure: `jobs/s, 1 process (PostgreSQL, ${JOBS} jobs)`, value: fixed(one.jobsPerSecond, 1), target: null },
        { benchmark: 'cluster', figure: `jobs/s, 3 processes (one leads, ${JOBS} jobs)`, value: fixed(three.jobsPerSecond, 1), target: null },
        // The leader runs every job either way: the standbys' admissions must not slow it down much (here the three
        // processes also share the bench machine's cores, which separate machines would not).
        { benchmark: 'cluster', figure: 'jobs/s, 3 processes ÷ 1 process', value: `${fixed(ratio, 2)}×`, target: atLeast(ratio, 0.7, '≥ 0.7×') },
        { benchmark: 'cluster', figure: 'command → Done card p95: 1 / 3 processes', value: `${fixed(p95(one.doneMs) / 1000, 2)} / ${fixed(p95(three.doneMs) / 1000, 2)} s`, target: null },
        { benchmark: 'cluster', figure: 'jobs not Done (failed, refused)', value: String(failed), target: atMost(failed, 0, '0') },
      ],
      method: [
        `${JOBS} /imagine jobs (1 sampler step, no previews) from ${SHARDS * MEMBERS_PER_SERVER} members on ${SHARDS} servers (one per gateway shard), sent at once (3 per member: within the default 1 running + 3 waiting), on ${BACKENDS} fake ComfyUIs and a real PostgreSQL (Debian's package) on loopback, every process on this machine; one process with all three shards vs three processes with one shard each (the two standbys admit their shards' jobs and wake the leader); jobs/s from the first command to the last Done card`,
      ],
    };
  } finally {
    await pool.close();
    server.stop();
  }
}
