// The REAL bot (src/main.ts startApp: config, job store, command registry, backend pool, scheduler, discord.js bot,
// job cards) in its own process, pointed at the fakes. Two observation hooks, which change no behaviour, tell the
// bench which preview frame each accepted card edit showed: PreviewEncoder.submit numbers each job's frames and
// remembers the encoded buffers, and discord.js's REST.queueRequest notes when Discord accepted a request that
// carried one of those buffers (discord.js passes a Buffer attachment through by reference).
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as wait } from 'node:timers/promises';
import { REST } from 'discord.js';
import { createLogger } from '../../src/config/logger.js';
import { configSchema } from '../../src/config/schema.js';
import { startApp } from '../../src/main.js';
import { PreviewEncoder } from '../../src/media/preview.js';
import { cpuByRoom, startCpuProfile, type CpuProfile, type RoomShare } from '../cpuRooms.js';
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

/** process.memoryUsage() at one moment, bytes. */
export type MemorySample = Pick<NodeJS.MemoryUsage, 'rss' | 'heapTotal' | 'heapUsed' | 'external' | 'arrayBuffers'>;

export interface MemoryFigures {
  /** When measuring started: the bot logged in, commands registered, one job done. */
  atStart: MemorySample;
  /** The sample with the highest RSS during the measured window. */
  atPeak: MemorySample;
}

/** The bot's CPU over a window with no job: its fixed cost (connections, probes, timers). */
export interface IdleFigures {
  windowMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
}

export interface MeasureOptions {
  /** Sample the bot's JavaScript with V8's profiler over the window (costs CPU: not for the CPU figures). */
  profile?: boolean;
  /** Watch the event-loop delay over the window (a timer of its own every 10 ms: not for the CPU figures either). */
  eventLoop?: boolean;
}

export interface BotFigures extends ProcessFigures {
  /** Null unless measureStart asked for it. */
  eventLoopDelayMs: { p50: number; p99: number; max: number } | null;
  previewEdits: PreviewEdit[];
  framesReceived: number;
  framesSuperseded: number;
  memory: MemoryFigures;
  /** CPU by room over the window, when measureStart asked for a profile. */
  cpuRooms: RoomShare[] | null;
  /** The profile itself (open it in Chrome DevTools), when measureStart asked for one. */
  cpuProfilePath: string | null;
}

/** The histogram counts the whole interval between its timer's wake-ups: the resolution is subtracted in report(). */
const LOOP_RESOLUTION_MS = 10;
const eventLoop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
let watchingLoop = false;
const frameOf = new WeakMap<Buffer, { jobId: string; frame: number }>();
const framesByJob = new Map<string, number>();
const encoders = new Set<PreviewEncoder>();
let previewEdits: PreviewEdit[] = [];
let cpuStart = process.cpuUsage();
let supersededAtStart = 0;
let app: { stop(): Promise<void> } | undefined;
let profiling: Awaited<ReturnType<typeof startCpuProfile>> | null = null;

/** Sampled every 100 ms, often enough for a peak that lasts as long as a burst of card edits. */
const MEMORY_SAMPLE_MS = 100;
const memorySample = (): MemorySample => {
  const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapTotal, heapUsed, external, arrayBuffers };
};
let memoryAtStart = memorySample();
let memoryAtPeak = memoryAtStart;
// RSS alone most of the time; the breakdown (heap statistics) only at a new high.
const memoryTimer = setInterval(() => {
  if (process.memoryUsage.rss() > memoryAtPeak.rss) memoryAtPeak = memorySample();
}, MEMORY_SAMPLE_MS).unref();

function saveProfile(profile: CpuProfile): string {
  const path = join(tmpdir(), `comfycord-bench-bot-${process.pid}.cpuprofile`);
  writeFileSync(path, JSON.stringify(profile));
  return path;
}

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
    async measureStart(options: MeasureOptions) {
      if (options.profile) profiling = await startCpuProfile();
      memoryAtStart = memorySample();
      memoryAtPeak = memoryAtStart;
      cpuStart = process.cpuUsage();
      previewEdits = [];
      framesByJob.clear();
      supersededAtStart = superseded();
      eventLoop.reset();
      watchingLoop = options.eventLoop === true;
      if (watchingLoop) eventLoop.enable();
      return {};
    },
    /** The process's CPU (user + system) since it started, ms: the bench reads it around each warm-up wave. */
    async cpuMs() {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1000;
    },
    async idle({ windowMs }: { windowMs: number }): Promise<IdleFigures> {
      const start = process.cpuUsage();
      await wait(windowMs);
      return { windowMs, ...cpuSince(start) };
    },
    async report(): Promise<BotFigures> {
      const cpu = cpuSince(cpuStart);
      eventLoop.disable();
      clearInterval(memoryTimer);
      const profile = await profiling?.stop();
      profiling = null;
      const ms = (ns: number) => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
      return {
        ...cpu,
        maxRssBytes: maxRss(),
        eventLoopDelayMs: watchingLoop ? { p50: ms(eventLoop.percentile(50)), p99: ms(eventLoop.percentile(99)), max: ms(eventLoop.max) } : null,
        previewEdits,
        framesReceived: [...framesByJob.values()].reduce((a, b) => a + b, 0),
        framesSuperseded: superseded() - supersededAtStart,
        memory: { atStart: memoryAtStart, atPeak: memoryAtPeak },
        cpuRooms: profile ? cpuByRoom(profile) : null,
        cpuProfilePath: profile ? saveProfile(profile) : null,
      };
    },
  },
  async () => {
    await app?.stop();
  },
);
