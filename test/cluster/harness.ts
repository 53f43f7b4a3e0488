// Several real bot processes sharing one real PostgreSQL store, each on its own gateway shard of the fake
// Discord, against one fake ComfyUI: started one at a time (the first takes the lease), found by role, killed
// and started again as a supervisor would.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/index.js';
import { startFakeDiscord, type FakeDiscord } from '../fakes/discord/index.js';
import { shardFor } from '../fakes/discord/guild.js';
import { spawnBot, stopBot, TEMPLATE_CHECKPOINT, type BotProcess } from '../e2e/harness.js';
import { freshSchemaUrl } from '../pg/schema.js';

export interface ClusterNode {
  shard: number;
  bot: BotProcess;
}

export interface ClusterOptions {
  discord: FakeDiscord;
  comfy: FakeComfy;
  /** A temp dir: the processes share `<root>/data` (image inputs, the ComfyUI client id). */
  root: string;
  databaseUrl: string;
  shards: number;
  leaseSeconds: number;
  /** More environment for every process (operators). */
  env?: Record<string, string>;
  /** A config file every process reads (limits, say). */
  configYaml?: string;
}

export const isLeading = (line: string): boolean => line.includes('leading: backends connected');

/** A snowflake (a server's id) whose events Discord routes to `shard`. */
export function guildIdOnShard(shard: number, shards: number): string {
  let id = (BigInt(Date.now() - 1_420_070_400_000) << 22n) | 1n;
  while (shardFor(String(id), shards) !== shard) id += 1n << 22n;
  return String(id);
}

export class Cluster {
  readonly nodes: ClusterNode[] = [];

  constructor(private readonly options: ClusterOptions) {}

  /** Starts a process on `shard`; does not wait for it. */
  spawn(shard: number): ClusterNode {
    const { discord, comfy, root, databaseUrl, shards, leaseSeconds, env, configYaml } = this.options;
    const bot = spawnBot(
      { discord, comfy },
      {
        dataDir: join(root, 'data'),
        logLevel: 'info',
        ...(configYaml === undefined ? {} : { configYaml }),
        env: {
          COMFYCORD_DATABASE_URL: databaseUrl,
          COMFYCORD_SHARDS: String(shard),
          COMFYCORD_SHARD_COUNT: String(shards),
          COMFYCORD_LEASE_SECONDS: String(leaseSeconds),
          ...env,
        },
      },
    );
    const node = { shard, bot };
    this.nodes.push(node);
    return node;
  }

  alive(): ClusterNode[] {
    return this.nodes.filter((n) => n.bot.child.exitCode === null && n.bot.child.signalCode === null);
  }

  /** The node that leads now: the last of the living to say it took the lease. */
  leader(): ClusterNode {
    const found = this.alive()
      .filter((n) => n.bot.lines.some(isLeading))
      .at(-1);
    if (!found) throw new Error('no process leads');
    return found;
  }

  async ready(node: ClusterNode): Promise<void> {
    await node.bot.waitForLine((line) => line.includes('comfycord is running'), 30_000, `the process on shard ${node.shard} to start`);
  }

  /** One process per shard, one at a time, so the first takes the lease and the later ones start as standbys. */
  async start(): Promise<void> {
    for (let shard = 0; shard < this.options.shards; shard += 1) {
      const node = this.spawn(shard);
      await this.ready(node);
      if (shard === 0) await node.bot.waitForLine(isLeading, 20_000, 'the first process to lead');
    }
  }

  /** A standby takes the lease (any of the living), resolving with it. */
  async nextLeader(): Promise<ClusterNode> {
    const candidates = this.alive();
    return Promise.any(candidates.map((n) => n.bot.waitForLine(isLeading, 30_000, 'a standby to take the lease').then(() => n)));
  }

  /** Stops the living; COMFYCORD_CLUSTER_LOGS=<dir> keeps every process's log for reading a failure. */
  async stop(): Promise<void> {
    await Promise.all(this.alive().map((n) => stopBot(n.bot)));
    const logs = process.env.COMFYCORD_CLUSTER_LOGS;
    if (logs) this.nodes.forEach((n, i) => writeFileSync(join(logs, `node-${i}-shard-${n.shard}.log`), n.bot.lines.join('\n')));
  }
}

export interface ClusterWorldOptions {
  /** Names the temp dir (comfycord-<name>-…). */
  name: string;
  guilds: { id: string; name: string }[];
  members: { id: string; username: string; guildId: string; roles?: string[] }[];
  shards: number;
  leaseSeconds: number;
  /** Checkpoints the fake ComfyUI has (default the shipped template's). */
  checkpoints?: string[];
  env?: Record<string, string>;
  configYaml?: string;
}

/** A fake Discord and ComfyUI, a fresh PostgreSQL schema and a started cluster on them, and how to take it all down. */
export interface ClusterWorld {
  discord: FakeDiscord;
  comfy: FakeComfy;
  cluster: Cluster;
  databaseUrl: string;
  close(): Promise<void>;
}

export async function openClusterWorld(options: ClusterWorldOptions): Promise<ClusterWorld> {
  const root = mkdtempSync(join(tmpdir(), `comfycord-${options.name}-`));
  const databaseUrl = freshSchemaUrl();
  const discord = await startFakeDiscord({ clock: 'manual', heartbeatIntervalMs: 5000, guilds: options.guilds });
  const comfy = await startFakeComfy({ models: { checkpoints: options.checkpoints ?? [TEMPLATE_CHECKPOINT] }, stepDelayMs: 20 });
  for (const member of options.members) discord.addMember(member);
  const { shards, leaseSeconds, env, configYaml } = options;
  const cluster = new Cluster({ discord, comfy, root, databaseUrl, shards, leaseSeconds, ...(env ? { env } : {}), ...(configYaml === undefined ? {} : { configYaml }) });
  const close = async (): Promise<void> => {
    await cluster.stop();
    await discord.close();
    await comfy.close();
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await cluster.start();
  } catch (error) {
    await close();
    throw error;
  }
  return { discord, comfy, cluster, databaseUrl, close };
}
