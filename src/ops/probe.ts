// The container health check's logic: one GET /healthz, healthy only on 200.
import { request } from 'node:http';

export interface ProbeResult {
  healthy: boolean;
  /** One line for the container log: the status and body, or why there was none. */
  detail: string;
}

export function probeHealth({ port, host = '127.0.0.1', timeoutMs = 3000 }: { port: number; host?: string; timeoutMs?: number }): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/healthz', method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ healthy: res.statusCode === 200, detail: `${res.statusCode ?? '?'} ${body.trim()}` }));
      res.on('error', (error) => resolve({ healthy: false, detail: `reading the answer failed: ${error.message}` }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ healthy: false, detail: `http://${host}:${port}/healthz: ${error.code ?? error.message}` }),
    );
    req.end();
  });
}

/** The port healthcheck.js probes: COMFYCORD_HTTP_PORT, which the Docker image sets. */
export function probePort(env: NodeJS.ProcessEnv): number {
  const raw = env.COMFYCORD_HTTP_PORT?.trim();
  if (!raw || !/^\d+$/.test(raw) || Number(raw) > 65535) {
    throw new Error(`COMFYCORD_HTTP_PORT: must be a port number from 0 to 65535 (got ${JSON.stringify(raw ?? '')})`);
  }
  return Number(raw);
}
