// Building the backend pool and the scheduler from the validated configuration (used by main.ts).
import { ComfyClient } from '../comfy/client.js';
import { ComfyV2Client } from '../comfy/v2-client.js';
import type { BackendConfig, Config } from '../config/schema.js';
import type { Logger } from '../config/logger.js';
import type { Clock } from './clock.js';
import { ComfyBackend } from './comfy-backend.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';
import { V2Backend } from './v2-backend.js';
import type { SubmissionUsage } from './usage.js';

export interface PoolOptions {
  logger?: Logger;
  clock?: Clock;
}

export interface SchedulerWiring extends PoolOptions {
  usage?: SubmissionUsage;
  gpuHistory?: SchedulerOptions['gpuHistory'];
}

/** The Backend of a configured `api: v2` entry (Comfy Cloud, a deployment, comfy-api-proxy). */
export function createV2Backend(b: BackendConfig, options: PoolOptions = {}): V2Backend {
  return new V2Backend({
    client: new ComfyV2Client({
      name: b.name,
      url: b.url,
      ...(b.apiKey !== undefined ? { apiKey: b.apiKey } : {}),
      ...(b.classicUrl !== undefined ? { classicUrl: b.classicUrl } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    }),
    ...(b.classicUrl !== undefined ? { classicUrl: b.classicUrl } : {}),
    capacity: b.capacity,
    weight: b.weight,
    costWeight: b.costWeight,
    ...options,
  });
}

/** One backend per configured entry, of its API kind; call `start()` on each (it never throws) before taking jobs. */
export function createBackendPool(config: Pick<Config, 'backends' | 'previews'>, options: PoolOptions = {}): (ComfyBackend | V2Backend)[] {
  return config.backends.map((b) =>
    b.api === 'v2'
      ? createV2Backend(b, options)
      : new ComfyBackend({
        client: new ComfyClient({
          name: b.name,
          url: b.url,
          ...(b.apiKey !== undefined ? { apiKey: b.apiKey } : {}),
          ...(options.logger ? { logger: options.logger } : {}),
        }),
        capacity: b.capacity,
        weight: b.weight,
        costWeight: b.costWeight,
        previewMethod: config.previews.method,
        ...options,
      }),
  );
}

export function schedulerOptionsFromConfig(
  config: Pick<Config, 'limits' | 'limitOverrides' | 'discord' | 'jobs' | 'fairShare' | 'relax'>,
  backends: SchedulerOptions['backends'],
  options: SchedulerWiring = {},
): SchedulerOptions {
  return {
    backends,
    limits: config.limits,
    limitOverrides: config.limitOverrides,
    priorityRoles: config.discord.priorityRoles,
    fairBy: config.fairShare.by,
    roleWeights: config.fairShare.roleWeights,
    shareHalfLifeMs: config.fairShare.halfLifeMinutes * 60_000,
    relaxSlowdown: config.relax.slowdown,
    maxTries: config.jobs.maxTries,
    timeoutSeconds: config.jobs.timeoutSeconds,
    outageNoticeMs: config.jobs.outageNoticeSeconds * 1000,
    waitForBackendMs: config.jobs.waitForBackendSeconds * 1000,
    ...options,
  };
}

export function createScheduler(
  config: Pick<Config, 'limits' | 'limitOverrides' | 'discord' | 'jobs' | 'fairShare' | 'relax'>,
  backends: SchedulerOptions['backends'],
  options: SchedulerWiring = {},
): Scheduler {
  return new Scheduler(schedulerOptionsFromConfig(config, backends, options));
}
