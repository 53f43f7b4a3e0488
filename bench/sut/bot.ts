// The REAL bot (src/main.ts startApp: config, job store, command registry, backend pool, scheduler, discord.js bot,
// job cards) in its own process, pointed at the fakes. Two observation hooks, which change no behaviour, tell the
// bench which preview frame each accepted card edit showed: PreviewEncoder.submit numbers each job's frames and
// remembers the encoded buffers, and discord.js's REST.queueRequest notes when Discord accepted a request that
// carried one of those buffers (discord.js passes a Buffer attachment through by reference).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { REST } from 'discord.js';
import { createLogger } from '../../src/config/logger.js';
import { configSchema } from '../../src/config/schema.js';
import { startApp } from '../../src/main.js';
import { PreviewEncoder } from '../../src/media/preview.js';
import { cpuSince, maxRss, now, serve, type ProcessFigures } from '../ipc.js';

export interface BotParams {
  restUrl: string;
  token: string;
  guildId: string;
  backends: { name: string; url: string }[];
  commandsDir: string;
  templatesDir: string;
  dataDir: string;
}

export interface PreviewEdit {
  jobId: string;
  /** 1-based index of the frame among the job's preview frames, in arrival order. */
  frame: number;
  /** When Discord's answer to the edit reached the bot, epoch ms. */
  at: number;
}

export interface BotFigures extends ProcessFigures {
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  previewEdits: PreviewEdit[];
  framesReceived: number;
  framesSuperseded: number;
}

/** The histogram counts the whole interval between its timer's wake-ups: the resolution is subtracted in report(). */
const LOOP_RESOLUTION_MS = 10;
const eventLoop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
const frameOf = new WeakMap<Buffer, { jobId: string; frame: number }>();
const framesByJob = new Map<string, number>();
const encoders = new Set<PreviewEncoder>();
let previewEdits: PreviewEdit[] = [];
let cpuStart = process.cpuUsage();
let supersededAtStart = 0;
let app: { stop(): Promise<void> } | undefined;

const superseded = () => [...encoders].reduce((n, e) => n + e.dropped, 0);

const submit = PreviewEncoder.prototype.submit;
PreviewEncoder.prototype.submit = function (this: PreviewEncoder, jobId: string, bytes: Buffer) {
  encoders.add(this);
  const frame = (framesByJob.get(jobId) ?? 0) + 1;
  framesByJob.set(jobId, frame);
  return submit.call(this, jobId, bytes).then((encoded) => {
    if (encoded) frameOf.set(encoded.bytes, { jobId, frame });
    return encoded;
  });
};

const queueRequest = REST.prototype.queueRequest;
REST.prototype.queueRequest = async function (this: REST, request: Parameters<REST['queueRequest']>[0]) {
  const response = await queueRequest.call(this, request);
  const shown = (request.files ?? []).map((f) => (Buffer.isBuffer(f.data) ? frameOf.get(f.data) : undefined)).find((s) => s !== undefined);
  if (shown) previewEdits.push({ ...shown, at: now() });
  return response;
};

serve(
  {
    async start(p: BotParams) {
      const config = configSchema.parse({
        discord: { token: p.token, apiUrl: p.restUrl, guildId: p.guildId },
        backends: p.backends,
        commandsDir: p.commandsDir,
        templatesDir: p.templatesDir,
        dataDir: p.dataDir,
        logLevel: 'silent',
      });
      app = await startApp(config, createLogger({ level: 'silent', pretty: false }));
      return { pid: process.pid };
    },
    measureStart() {
      cpuStart = process.cpuUsage();
      previewEdits = [];
      framesByJob.clear();
      supersededAtStart = superseded();
      eventLoop.reset();
      eventLoop.enable();
      return {};
    },
    report(): BotFigures {
      eventLoop.disable();
      const ms = (ns: number) => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
      return {
        ...cpuSince(cpuStart),
        maxRssBytes: maxRss(),
        eventLoopDelayMs: { p50: ms(eventLoop.percentile(50)), p99: ms(eventLoop.percentile(99)), max: ms(eventLoop.max) },
        previewEdits,
        framesReceived: [...framesByJob.values()].reduce((a, b) => a + b, 0),
        framesSuperseded: superseded() - supersededAtStart,
      };
    },
  },
  async () => {
    await app?.stop();
  },
);
