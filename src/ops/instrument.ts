// The glue between the app's moving parts and its Prometheus metrics: each function attaches to one source
// (a job, the backends, the scheduler, Discord's REST client) and returns the function that detaches it.
// Durations are taken from the job's own timestamps, so they use the scheduler's clock, not this module's.
import type { Gauge } from 'prom-client';
import type { Job, JobState, StateChange } from '../jobs/job.js';
import type { Backend } from '../scheduler/backend.js';
import type { Metrics } from './metrics.js';
import type { BackendState, ClusterHealth, HealthReport } from './server.js';

export type Detach = () => void;

/**
 * The states a job must have entered to be in a state now. The scheduler may dispatch a job inside
 * `submit()`, before anyone can listen, so instrumenting it late still counts it as queued. A job that already
 * ended has an unknown path: only its end counts.
 */
const PATH_TO: Readonly<Record<JobState, readonly JobState[]>> = {
  queued: ['queued'],
  dispatched: ['queued', 'dispatched'],
  running: ['queued', 'dispatched', 'running'],
  succeeded: ['succeeded'],
  failed: ['failed'],
  cancelled: ['cancelled'],
};

// Dispatched and running jobs always carry a backend; the fallback keeps a metric from ever throwing.
const NO_BACKEND = 'unknown';

const seconds = (from: number, to: number): number => Math.max(0, to - from) / 1000;

/**
 * Counts each state the job enters (by command), observes its wait (submission → first dispatch) and its
 * run (running → end, for runs that started) by command and backend, and adds its GPU time (by command, backend
 * and Discord server). Detaches itself when the job ends.
 */
export function instrumentJob(job: Job, metrics: Pick<Metrics, 'jobs' | 'waitSeconds' | 'runSeconds' | 'gpuSeconds'>): Detach {
  const command = job.command;
  let waitObserved = false;
  const observeWait = (backend: string | null): void => {
    const dispatchedAt = job.data.dispatchedAt;
    if (waitObserved || dispatchedAt === null) return;
    waitObserved = true;
    metrics.waitSeconds.observe({ command, backend: backend ?? NO_BACKEND }, seconds(job.createdAt, dispatchedAt));
  };

  for (const state of PATH_TO[job.state]) metrics.jobs.inc({ state, command });
  if (job.final) return () => undefined;
  if (job.state !== 'queued') observeWait(job.backend);

  const onState = (change: StateChange): void => {
    metrics.jobs.inc({ state: change.state, command });
    if (change.state === 'dispatched') observeWait(change.backend);
    if (!job.final) return;
    const { startedAt, finishedAt } = job.data;
    // Only a run that started has a run time; a requeue clears the start, so this is the last attempt's run.
    if (startedAt !== null && finishedAt !== null) {
      metrics.runSeconds.observe({ command, backend: change.backend ?? NO_BACKEND }, seconds(startedAt, finishedAt));
    }
    if (job.gpuMs !== null && job.gpuMs > 0) {
      metrics.gpuSeconds.inc({ command, backend: change.backend ?? NO_BACKEND, guild: job.owner.guildId ?? 'dm' }, job.gpuMs / 1000);
    }
    detach();
  };
  const detach = (): void => {
    job.off('state', onState);
  };
  job.on('state', onState);
  return detach;
}

/** What the backend metrics and the health report read of a backend. */
export type BackendHealthSource = Pick<Backend, 'name' | 'healthy' | 'api'>;

function assertUniqueNames(backends: readonly BackendHealthSource[], purpose: string): void {
  const seen = new Set<string>();
  for (const { name } of backends) {
    if (seen.has(name)) throw new Error(`${purpose}: backend name "${name}" is used twice; each backend needs its own name`);
    seen.add(name);
  }
}

/** Keeps `comfycord_backend_up` at 1 or 0 per backend, from now on and from each health event. */
export function instrumentBackends(
  backends: readonly (BackendHealthSource & Pick<Backend, 'on' | 'off'>)[],
  metrics: Pick<Metrics, 'backendUp'>,
): Detach {
  assertUniqueNames(backends, 'backend metrics');
  const detachers = backends.map((backend) => {
    const set = (healthy: boolean): void => {
      metrics.backendUp.set({ backend: backend.name, api: backend.api ?? 'classic' }, healthy ? 1 : 0);
    };
    set(backend.healthy);
    backend.on('health', set);
    return () => backend.off('health', set);
  });
  return () => {
    for (const off of detachers) off();
  };
}

// prom-client calls a metric's `collect` before each scrape; its Gauge type leaves the property out.
type CollectedGauge = Gauge & { collect?: (() => void) | undefined };

/** Makes `comfycord_queue_length` read the scheduler's waiting jobs at each scrape. */
export function instrumentQueue(scheduler: { jobs(): readonly Pick<Job, 'state'>[] }, metrics: Pick<Metrics, 'queueLength'>): Detach {
  const gauge = metrics.queueLength as CollectedGauge;
  if (gauge.collect) throw new Error('queue metrics: the queue-length gauge already reads a scheduler; detach that one first');
  const collect = (): void => {
    gauge.set(scheduler.jobs().filter((job) => job.state === 'queued').length);
  };
  gauge.collect = collect;
  return () => {
    if (gauge.collect === collect) gauge.collect = undefined;
  };
}

/** What discord.js's REST client reports when it waits out a rate limit, a 429's included (its RateLimitData). */
export interface RateLimitInfo {
  route: string;
  global: boolean;
}

/** Structurally discord.js's `client.rest`, so ops/ needs no discord.js import. */
export interface RateLimitSource {
  on(event: 'rateLimited', listener: (info: RateLimitInfo) => void): unknown;
  off(event: 'rateLimited', listener: (info: RateLimitInfo) => void): unknown;
}

/** The route label of a global limit: it stops every route, so the request that met it says nothing. */
const GLOBAL_ROUTE = 'global';

/** Counts rate limits by route (discord.js's bucket route, ids already replaced by `:id`). */
export function countRateLimits(source: RateLimitSource, metrics: Pick<Metrics, 'discordRateLimited'>): Detach {
  const count = (info: RateLimitInfo): void => {
    metrics.discordRateLimited.inc({ route: info.global ? GLOBAL_ROUTE : info.route || 'unknown' });
  };
  source.on('rateLimited', count);
  return () => {
    source.off('rateLimited', count);
  };
}

/** Structurally cluster/'s LeaseKeeper, so ops/ needs nothing of it. */
export interface ClusterSource {
  readonly role: 'leader' | 'standby';
  readonly leaderSince: number | null;
  leaseAgeMs(): number | null;
}

export interface HealthSources {
  discordConnected: () => boolean;
  backends: readonly BackendHealthSource[];
  cluster?: ClusterSource;
}

/** This process's role and lease age, read at each probe and each scrape. */
export function clusterHealth(cluster: ClusterSource): ClusterHealth {
  const age = cluster.leaseAgeMs();
  return { role: cluster.role, leaseAgeSeconds: age === null ? null : age / 1000, leaderSince: cluster.leaderSince };
}

/** Feeds comfycord_leader and comfycord_lease_age_seconds from the lease keeper, every second. */
export function instrumentCluster(cluster: ClusterSource, metrics: Pick<Metrics, 'leader' | 'leaseAgeSeconds'>): Detach {
  const read = (): void => {
    metrics.leader.set(cluster.role === 'leader' ? 1 : 0);
    metrics.leaseAgeSeconds.set((cluster.leaseAgeMs() ?? 0) / 1000);
  };
  read();
  const timer = setInterval(read, 1000).unref();
  return () => clearInterval(timer);
}

/** The `health` callback of startOpsServer: reads Discord's and each backend's state at every probe. */
export function healthReport({ discordConnected, backends, cluster }: HealthSources): () => HealthReport {
  assertUniqueNames(backends, 'health report');
  return () => ({
    discord: discordConnected() ? 'connected' : 'disconnected',
    backends: Object.fromEntries(backends.map((b): [string, BackendState] => [b.name, b.healthy ? 'up' : 'down'])),
    ...(cluster ? { cluster: clusterHealth(cluster) } : {}),
  });
}
