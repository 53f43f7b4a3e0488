// Wiring only: config → store → commands → backend pool → scheduler → bot → recovery (one process) or the lease
// (several sharing PostgreSQL: recovery once this process leads) → ops server. Each start-up failure a person can
// fix becomes one StartupError line; stop() undoes the start in reverse.
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LeaseKeeper } from './cluster/lease-keeper.js';
import { localHolds, sharedHolds } from './cluster/holds.js';
import { leaderAwareQueue, localQueue, storeQueue } from './cluster/job-views.js';
import { startLeadership } from './cluster/leadership.js';
import { localCanceller, sharedCanceller } from './discord/wiring/canceller.js';
import { watchLeaderLoss } from './cluster/leader-loss-watch.js';
import { ViewPublisher } from './cluster/view-publisher.js';
import { localIntake, sharedIntake } from './discord/wiring/intake.js';
import type { Job } from './jobs/job.js';
import type { JobRow } from './jobs/store-types.js';
import { ComfyClient } from './comfy/client.js';
import { ComfyConnectionError } from './comfy/errors.js';
import type { Config } from './config/schema.js';
import type { Logger } from './config/logger.js';
import { BotStartError, startBot, type Bot } from './discord/bot.js';
import { startPatternWorker, stopPatternWorker } from './policy/patterns.js';
import { recoverJobs } from './jobs/recovery.js';
import { openJobStore, StoreError, type JobStore } from './jobs/store.js';
import { resumeJobCard } from './discord/wiring/cardSession.js';
import { deliverPending, showUnrecoverable } from './discord/wiring/recoveredCards.js';
import { showLeaderLost } from './discord/wiring/leaderLostCards.js';
import { releaseLibvipsCache } from './media/libvips.js';
import { PreviewEncoder } from './media/preview.js';
import { dmPolicyProblems, dmSettings, warmUpChecks } from './policy/index.js';
import { healthReport, instrumentBackends, instrumentCluster, instrumentJob, instrumentQueue } from './ops/instrument.js';
import { createMetrics } from './ops/metrics.js';
import { startOpsServer, type OpsServer } from './ops/server.js';
import { ComfyBackend } from './scheduler/comfy-backend.js';
import { createScheduler, createV2Backend } from './scheduler/from-config.js';
import { serialGate } from './scheduler/serial-gate.js';
import type { V2Backend } from './scheduler/v2-backend.js';
import type { Scheduler } from './scheduler/scheduler.js';
import { storeUsage } from './scheduler/usage.js';
import { GuildCommandSet, lookupCommand } from './templates/guild-commands.js';
import { CommandRegistry } from './templates/registry.js';

/** A start-up failure a person can act on; its message is one line. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

interface Pooled {
  name: string;
  url: string;
  api: 'classic' | 'v2';
  /** ComfyUI's own routes; for a v2 backend, its classic URL's (none without one). */
  client: ComfyClient | undefined;
  backend: ComfyBackend | V2Backend;
  readonly healthy: boolean;
}

const CLIENT_ID_FILE = 'comfy-client-id';

/**
 * The client id this installation uses with ComfyUI, kept in the data dir: ComfyUI sends a prompt's progress
 * and results only to the client id that submitted it, so after a restart the bot must come back as the same
 * client to follow the jobs it adopted.
 */
function stableClientId(dataDir: string): string {
  const path = join(dataDir, CLIENT_ID_FILE);
  try {
    const saved = readFileSync(path, 'utf8').trim();
    if (/^[\w-]{8,64}$/.test(saved)) return saved;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new StartupError(`cannot read ${path}: ${(error as Error).message}`);
  }
  const id = randomUUID();
  try {
    writeFileSync(path, `${id}\n`);
  } catch (error) {
    throw new StartupError(`cannot write ${path}: ${(error as Error).message}`);
  }
  return id;
}

/** One client + backend per configured backend; the clients are kept for /comfy status and autocomplete. */
function createPool(config: Config, logger: Logger, clientId: string): Pooled[] {
  const inventoryGate = serialGate();
  return config.backends.map((b) => {
    if (b.api === 'v2') {
      const backend = createV2Backend(b, { logger });
      const client = b.classicUrl !== undefined ? new ComfyClient({ name: b.name, url: b.classicUrl, clientId, logger }) : undefined;
      return { name: b.name, url: b.url, api: 'v2', client, backend, get healthy() { return backend.healthy; } };
    }
    const client = new ComfyClient({
      name: b.name,
      url: b.url,
      clientId,
      logger,
      ...(b.apiKey !== undefined ? { apiKey: b.apiKey } : {}),
      ...(config.jobs.stallSeconds !== undefined ? { stallMs: config.jobs.stallSeconds * 1000 } : {}),
    });
    const backend = new ComfyBackend({ client, capacity: b.capacity, weight: b.weight, previewMethod: config.previews.method, logger, inventoryGate });
    return {
      name: b.name,
      url: b.url,
      api: 'classic',
      client,
      backend,
      get healthy() {
        return backend.healthy;
      },
    };
  });
}

/** Why no backend answered, in one line naming each URL. */
async function unreachable(pool: Pooled[]): Promise<string> {
  const reasons = await Promise.all(
    pool.map((p) =>
      (p.api === 'v2' || !p.client ? Promise.reject(new Error('the Comfy API v2 endpoint did not answer its probe')) : p.client.http.systemStats()).then(
        () => `${p.url} answers but its WebSocket or node list could not be read`,
        (error: unknown) => `${p.url} (${error instanceof ComfyConnectionError ? error.code : error instanceof Error ? error.message : String(error)})`,
      ),
    ),
  );
  return `cannot reach ComfyUI at ${reasons.join(', ')}; start ComfyUI or set COMFY_URL`;
}

/** Whether DMs or any server have blocked patterns; a server whose settings cannot be read counts as having some. */
function anyBlockedPatterns(config: Config, store: JobStore, logger: Logger): boolean {
  if (config.dmPolicy.blockedPatterns.length > 0) return true;
  return store.guildIds().some((guildId) => {
    try {
      return store.guildSettings(guildId).blockedPatterns.length > 0;
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      logger.debug({ guild: guildId }, 'settings unreadable: warming the pattern worker in case they hold patterns');
      return true;
    }
  });
}

/** How the processes table shows this process's gateway shards. */
function shardsOf(config: Config): string {
  const { shards, shardCount } = config.cluster;
  if (shards !== undefined) return `${shards.join(',')} of ${shardCount}`;
  return shardCount !== undefined ? `all of ${shardCount}` : 'all';
}

export async function startApp(config: Config, logger: Logger): Promise<{ stop(): Promise<void> }> {
  logger.info({ backends: config.backends.map((b) => b.name) }, 'starting');
  const undo: (() => Promise<void> | void)[] = [];
  const stop = async (): Promise<void> => {
    for (const step of undo.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        logger.error({ err: error }, 'a shutdown step failed');
      }
    }
  };
  try {
    releaseLibvipsCache();
    const policyProblems = dmPolicyProblems(config.dmPolicy);
    if (policyProblems.length > 0) throw new StartupError(policyProblems.join('; '));
    let store: JobStore;
    try {
      store = openJobStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, logger });
    } catch (error) {
      if (error instanceof StoreError) throw new StartupError(error.message);
      throw error;
    }
    undo.push(() => store.close());
    logger.info({ engine: store.engine }, 'job store open');
    const prune = (): void => {
      const pruned = store.prune(config.jobs.retentionDays);
      if (pruned > 0) logger.info({ pruned }, 'old finished jobs pruned');
    };
    prune();
    // Again once a day, so a bot that runs for months keeps to its retention too.
    const pruning = setInterval(() => {
      try {
        prune();
      } catch (error) {
        logger.error({ err: error }, 'pruning old jobs failed');
      }
    }, 24 * 3_600_000).unref();
    undo.push(() => clearInterval(pruning));

    const registry = await CommandRegistry.load({ commandsDir: config.commandsDir, templatesDir: config.templatesDir, logger });
    registry.watch();
    undo.push(() => registry.close());

    // Warmed only when some server has patterns: otherwise the thread starts with the first pattern a server adds.
    undo.push(anyBlockedPatterns(config, store, logger) ? await startPatternWorker() : stopPatternWorker);
    await warmUpChecks(dmSettings(config.dmPolicy));

    // Servers' own commands (`/comfy command add`) live in the store; a broken one is logged and left out.
    const { set: guildCommands, problems: guildCommandProblems } = GuildCommandSet.from(store.guildCommands());
    for (const problem of guildCommandProblems) logger.error(`server command skipped: ${problem}`);

    const metrics = createMetrics();
    const pool = createPool(config, logger, stableClientId(config.dataDir));
    undo.push(() => Promise.all(pool.map((p) => p.backend.stop())).then(() => undefined));
    // Several processes sharing PostgreSQL: only the leader connects to the backends (see cluster/).
    const databaseUrl = config.databaseUrl;
    if (databaseUrl === undefined) {
      await Promise.all(pool.map((p) => p.backend.start()));
      if (!pool.some((p) => p.healthy)) throw new StartupError(await unreachable(pool));
    }
    undo.push(instrumentBackends(pool.map((p) => p.backend), metrics));

    // Usage older than eight half-lives weighs under 0.4 %: not worth reading back.
    const gpuHistory = store.gpuChargesSince(Date.now() - 8 * config.fairShare.halfLifeMinutes * 60_000);
    const scheduler: Scheduler = createScheduler(config, pool.map((p) => p.backend), { logger, usage: storeUsage(store), gpuHistory });
    undo.push(() => scheduler.close());
    // A server's own pause or drain outlives a restart, like its other settings; with several processes the
    // operators' holds are in the store too, so every process (and the next leader) obeys them.
    const holds = databaseUrl === undefined ? localHolds(store, scheduler, logger) : sharedHolds(store, scheduler, logger);
    undo.push(instrumentQueue(scheduler, metrics));

    const processId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    const keeper =
      databaseUrl === undefined
        ? null
        : new LeaseKeeper({
            store,
            process: { id: processId, host: hostname(), pid: process.pid, shards: shardsOf(config), startedAt: Date.now() },
            ttlMs: config.cluster.leaseSeconds * 1000,
            logger,
          });
    if (keeper) undo.push(instrumentCluster(keeper, metrics));
    // Who cancelled which job, for its card: written by a local press or by the leader carrying out a recorded one.
    const cancelledBy = new Map<string, string>();
    // A standby's scheduler runs nothing: it shows the store's rows and the leader's published view.
    const firstHand = localQueue(scheduler, pool);
    const queue = keeper === null ? firstHand : leaderAwareQueue(firstHand, storeQueue(store), () => keeper.role === 'leader');
    let bot: Bot;
    try {
      bot = await startBot({
        config,
        logger,
        scheduler,
        intake: keeper === null ? localIntake({ scheduler, store, logger }) : sharedIntake({ scheduler, store, holds }),
        canceller: keeper === null ? localCanceller({ scheduler, cancelledBy }) : sharedCanceller({ store }),
        cancelledBy,
        holds,
        queue,
        store,
        registry,
        guildCommands,
        backends: pool,
        previews: new PreviewEncoder({ format: config.previews.format, maxSize: config.previews.maxSize }),
        metrics,
      });
    } catch (error) {
      if (error instanceof BotStartError) throw new StartupError(error.message);
      throw error;
    }
    undo.push(() => bot.stop());

    const commands = (name: string, guildId: string | null) => lookupCommand(registry.commands, guildCommands, guildId, name);
    const attach = (job: Job, row: JobRow) => {
      instrumentJob(job, metrics);
      resumeJobCard(bot.context, job, row);
    };
    const report = (what: string) => (error: unknown) => logger.error({ err: error }, what);
    const recover = (options: { only?: (row: JobRow) => boolean; adopted?: (job: Job, row: JobRow) => void } = {}): void => {
      const { only, adopted } = options;
      const recovery = recoverJobs({
        store,
        scheduler,
        commands,
        maxTries: config.jobs.maxTries,
        deliveryMaxAgeMs: config.jobs.deliveryHours * 3_600_000,
        logger,
        attach: (job, row) => {
          attach(job, row);
          adopted?.(job, row);
        },
        ...(only ? { only } : {}),
      });
      for (const { row, error } of recovery.failed) void showUnrecoverable(bot.context, row, error).catch(report('could not show an unrecoverable job'));
      for (const row of recovery.undelivered) void deliverPending(bot.context, row).catch(report('could not deliver recovered results'));
    };

    if (keeper === null || databaseUrl === undefined) {
      // One process: it always leads.
      // Jobs the last run left unfinished go back into the scheduler, each with its card resumed.
      recover();
      bot.startDeliveryRetry();
    } else {
      const stopLeading = startLeadership({
        keeper,
        databaseUrl,
        store,
        scheduler,
        startBackends: async () => {
          await Promise.all(pool.map((p) => p.backend.start()));
          if (!pool.some((p) => p.healthy)) logger.error(await unreachable(pool));
        },
        recover,
        startDeliveries: () => bot.startDeliveryRetry(),
        noteCancel: (jobId, userId) => cancelledBy.set(jobId, userId),
        syncHolds: () => void holds.sync(),
        publishView: () => new ViewPublisher({ source: firstHand, store, now: Date.now, logger }).start(),
        logger,
      });
      undo.push(stopLeading);
      // A standby tells the members when the leader is lost, until one takes over and continues the cards.
      undo.push(watchLeaderLoss({ keeper, store, processId, tell: (deadline) => showLeaderLost(bot.context, deadline), logger }));
    }

    if (config.http.port !== undefined) {
      let ops: OpsServer;
      try {
        ops = await startOpsServer({
          port: config.http.port,
          host: config.http.host,
          metrics,
          health: healthReport({ discordConnected: () => bot.connected, backends: pool.map((p) => p.backend), ...(keeper ? { cluster: keeper } : {}) }),
        });
      } catch (error) {
        throw new StartupError(error instanceof Error ? error.message : String(error));
      }
      undo.push(() => ops.close());
      logger.info({ url: ops.url }, 'ops server listening');
    }
    // Start-up read every backend's node classes and models: that garbage (tens of MB with many backends) goes now,
    // while the bot is idle, instead of staying resident until V8's first full collection under load.
    globalThis.gc?.();
    logger.info('comfycord is running');
    return { stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
