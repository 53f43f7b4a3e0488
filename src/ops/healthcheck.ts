// `node dist/src/ops/healthcheck.js`: the Docker HEALTHCHECK. Exit 0 healthy, 1 not (Docker's contract).
import { probeHealth, probePort } from './probe.js';

try {
  const result = await probeHealth({ port: probePort(process.env) });
  process.stdout.write(`${result.detail}\n`);
  process.exitCode = result.healthy ? 0 : 1;
} catch (error) {
  process.stderr.write(`healthcheck: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
