// The ops HTTP server: /healthz for orchestrators (Docker HEALTHCHECK, Kubernetes), /metrics for Prometheus.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.js';

export type DiscordState = 'connected' | 'connecting' | 'disconnected';
export type BackendState = 'up' | 'down';

/** What the app knows about its connections; `ok` is derived here so every caller agrees on it. */
/** This process among several sharing one store: its role, and how long since it renewed the lease (leader). */
export interface ClusterHealth {
  role: 'leader' | 'standby';
  leaseAgeSeconds: number | null;
  /** Epoch ms this process became the leader; null on a standby. */
  leaderSince: number | null;
}

export interface HealthReport {
  discord: DiscordState;
  backends: Readonly<Record<string, BackendState>>;
  /** Present when several processes share a PostgreSQL store. */
  cluster?: ClusterHealth;
}

export interface HealthBody extends HealthReport {
  ok: boolean;
}

/** Healthy = Discord connected and at least one backend up (jobs can be taken and run); a standby: Discord connected. */
export function isHealthy(report: HealthReport): boolean {
  // A standby runs no jobs and holds no backend connections: serving interactions is its whole job.
  if (report.cluster?.role === 'standby') return report.discord === 'connected';
  return report.discord === 'connected' && Object.values(report.backends).includes('up');
}

export interface OpsServerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  host?: string;
  metrics: Metrics;
  health: () => HealthReport | Promise<HealthReport>;
}

export interface OpsServer {
  /** The port actually bound. */
  port: number;
  url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`);
}

async function route(req: IncomingMessage, res: ServerResponse, options: OpsServerOptions): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://ops').pathname;
  if (path !== '/healthz' && path !== '/metrics') {
    sendJson(res, 404, { error: `no such route ${path} (try /healthz or /metrics)` });
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    sendJson(res, 405, { error: `${req.method ?? '?'} is not allowed on ${path}` });
    return;
  }
  if (path === '/metrics') {
    send(res, 200, options.metrics.registry.contentType, await options.metrics.registry.metrics());
    return;
  }
  const report = await options.health();
  const ok = isHealthy(report);
  const body: HealthBody = { ok, discord: report.discord, backends: report.backends, ...(report.cluster ? { cluster: report.cluster } : {}) };
  sendJson(res, ok ? 200 : 503, body);
}

export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server = createServer((req, res) => {
    route(req, res, options).catch((error: unknown) => {
      // A failing health probe means unhealthy, and the reason is worth showing to whoever curls it.
      const message = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: message });
      else res.destroy();
    });
  });
  const host = options.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`ops server: cannot listen on ${host}:${options.port} (${error.code ?? error.message})`, { cause: error });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    port,
    url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets from Prometheus would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}
