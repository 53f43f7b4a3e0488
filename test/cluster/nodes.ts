// Several real bot processes sharing one PostgreSQL store, each on its own gateway shard of the fake Discord:
// starting them, telling which one leads, and the servers (one per shard) whose members' interactions reach each.
import { join } from 'node:path';
import type { FakeComfy } from '../fakes/comfy/index.js';
import type { FakeDiscord } from '../fakes/discord/index.js';
import { shardFor } from '../fakes/discord/guild.js';
import { spawnBot, type BotProcess } from '../e2e/harness.js';

export interface Node {
  shard: number;
  bot: BotProcess;
}

/** A snowflake whose events Discord routes to `shard` of `shards`. */
export function guildIdOnShard(shard: number, shards: number): string {
  let id = (BigInt(Date.now() - 1_420_070_400_000) << 22n) | 1n;
  while (shardFor(String(id), shards) !== shard) id += 1n << 22n;
  return String(id);
}

export const isLeading = (line: string): boolean => line.includes('leading: backends connected');

export class Cluster {
  readonly nodes: Node[] = [];

  constructor(
    private readonly options: { discord: FakeDiscord; comfy: FakeComfy; root: string; databaseUrl: string; shards: number; leaseSeconds: number },
  ) {}

  spawnNode(shard: number): Node {
    const { discord, comfy, root, databaseUrl, shards, leaseSeconds } = this.options;
    const bot = spawnBot(
      { discord, comfy },
      {
        // One data dir for all: the shared volume for image inputs and the ComfyUI client id the leader follows prompts as.
        dataDir: join(root, 'data'),
        logLevel: 'info',
        env: {
          COMFYCORD_DATABASE_URL: databaseUrl,
          COMFYCORD_SHARDS: String(shard),
          COMFYCORD_SHARD_COUNT: String(shards),
          COMFYCORD_LEASE_SECONDS: String(leaseSeconds),
        },
      },
    );
    const node = { shard, bot };
    this.nodes.push(node);
    return node;
  }

  alive(): Node[] {
    return this.nodes.filter((n) => n.bot.child.exitCode === null && n.bot.child.signalCode === null);
  }

  /** The node that leads now: the last of the living to say it took the lease. */
  leader(): Node {
    const found = this.alive()
      .filter((n) => n.bot.lines.some(isLeading))
      .at(-1);
    if (!found) throw new Error('no process leads');
    return found;
  }

  async nodeReady(node: Node): Promise<void> {
    await node.bot.waitForLine((line) => line.includes('comfycord is running'), 30_000, `the process on shard ${node.shard} to start`);
  }

  /** Starts one process per shard, one at a time, so the first takes the lease and the later ones stand by. */
  async startAll(): Promise<void> {
    for (let shard = 0; shard < this.options.shards; shard += 1) {
      const node = this.spawnNode(shard);
      await this.nodeReady(node);
      if (shard === 0) await node.bot.waitForLine(isLeading, 20_000, 'the first process to lead');
    }
  }
}
