// The product's Prometheus metrics, one registry per app (a fresh one per test), served by server.ts.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Buckets for waits and runs: from a quick SDXL-turbo image to a long video job. */
const DURATION_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800];

export interface Metrics {
  registry: Registry;
  /** Jobs entering each state, by command. */
  jobs: Counter<'state' | 'command'>;
  /** Jobs waiting in the bot's fair queue now. */
  queueLength: Gauge;
  /** 1 on the leader, 0 on a standby (several processes sharing PostgreSQL; absent otherwise). */
  leader: Gauge;
  leaseAgeSeconds: Gauge;
  /** Seconds from submission to dispatch. */
  waitSeconds: Histogram<'command' | 'backend'>;
  /** Seconds from dispatch to the terminal state. */
  runSeconds: Histogram<'command' | 'backend'>;
  /** GPU time of finished jobs (execution × the backend's cost weight), by command, backend and Discord server. */
  gpuSeconds: Counter<'command' | 'backend' | 'guild'>;
  /** Live preview images attached to job cards. */
  previewsSent: Counter;
  /** HTTP 429 answers from Discord, by route. */
  discordRateLimited: Counter<'route'>;
  /** 1 when the backend is reachable and accepting work, else 0. */
  backendUp: Gauge<'backend' | 'api'>;
}

export interface MetricsOptions {
  /** Node process metrics (CPU, memory, event loop lag) alongside the product's; default true. */
  processMetrics?: boolean;
}

export function createMetrics({ processMetrics = true }: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  // Event-loop delay sampled every 100 ms, not prom-client's 10: a timer firing a hundred times a second was half
  // of an idle bot's CPU (bench "overhead"), and a lag worth alerting on lasts far longer than 100 ms.
  if (processMetrics) collectDefaultMetrics({ register: registry, prefix: 'comfycord_', eventLoopMonitoringPrecision: 100 });
  const registers = [registry];
  return {
    registry,
    jobs: new Counter({
      name: 'comfycord_jobs_total',
      help: 'Jobs entering each state, by command.',
      labelNames: ['state', 'command'],
      registers,
    }),
    queueLength: new Gauge({ name: 'comfycord_queue_length', help: "Jobs waiting in the bot's fair queue.", registers }),
    leader: new Gauge({ name: 'comfycord_leader', help: 'Whether this process leads (1) or stands by (0) among those sharing the store.', registers }),
    leaseAgeSeconds: new Gauge({ name: 'comfycord_lease_age_seconds', help: "Seconds since this leader last renewed its lease (0 on a standby).", registers }),
    waitSeconds: new Histogram({
      name: 'comfycord_job_wait_seconds',
      help: 'Seconds from submission to dispatch.',
      labelNames: ['command', 'backend'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    runSeconds: new Histogram({
      name: 'comfycord_job_run_seconds',
      help: 'Seconds from dispatch to the end of the job.',
      labelNames: ['command', 'backend'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    gpuSeconds: new Counter({
      name: 'comfycord_gpu_seconds_total',
      help: "GPU time of finished jobs (execution × the backend's costWeight), by command, backend and Discord server (guild id, or dm).",
      labelNames: ['command', 'backend', 'guild'],
      registers,
    }),
    previewsSent: new Counter({ name: 'comfycord_previews_sent_total', help: 'Live previews attached to job cards.', registers }),
    discordRateLimited: new Counter({
      name: 'comfycord_discord_rate_limited_total',
      help: 'HTTP 429 answers from Discord, by route.',
      labelNames: ['route'],
      registers,
    }),
    backendUp: new Gauge({
      name: 'comfycord_backend_up',
      help: '1 when the ComfyUI backend is reachable, else 0; api is classic or v2.',
      labelNames: ['backend', 'api'],
      registers,
    }),
  };
}
