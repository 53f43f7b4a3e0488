// 3. Overhead: the bot's own CPU per job on the control path (previews off) and where it goes by room, its CPU per
// preview (the same workload with previews on, minus the control path), its event-loop delay and its memory while
// 50 jobs stream at once.
import { botRun, type BotRunResult, type BotWorkload } from './botRun.js';
import { describeWorkload } from './freshness.js';
import { atMost, below, fixed, type BenchResult, type Row } from './report.js';
import { readStartCommand } from './startCommand.js';
import type { MemorySample } from './sut/bot.js';

/**
 * Three unmeasured waves of the same 50 jobs first: a bot fresh from start-up runs its per-job code unoptimised
 * while V8 compiles it (CPU per job falls wave by wave and settles by the third; see BotWorkload.warmUpWaves). The
 * first waves' figures are printed beside the steady state. The memory target is read on a fresh bot instead
 * (FRESH_STREAMING); the warmed streaming run's peak is printed as the long-running one.
 */
const WARM_UP_WAVES = 3;
const STREAMING: BotWorkload = { jobs: 50, channels: 5, backends: 50, steps: 50, stepDelayMs: 100, previews: true, arrivalsPerSecond: 25, warmUpWaves: WARM_UP_WAVES, watchEventLoop: true };
const CONTROL: BotWorkload = { ...STREAMING, previews: false, idle: true, watchEventLoop: false };
/** The memory target's run: a bot fresh from start-up and its first 50 streaming jobs. */
const FRESH_STREAMING: BotWorkload = { ...STREAMING, warmUpWaves: 0, watchEventLoop: false };
const PROFILED: BotWorkload = { ...STREAMING, previews: false, profile: true, watchEventLoop: false };

/** Rooms printed on their own row; the rest are summed on one. */
const ROOMS_SHOWN = 8;

const MB = (bytes: number) => `${fixed(bytes / 2 ** 20, 0)} MB`;
const cpu = (r: BotRunResult) => r.figures.cpuUserMs + r.figures.cpuSystemMs;

function startLine(): string {
  const start = readStartCommand(new URL('../package.json', import.meta.url).pathname);
  return [...Object.entries(start.env).map(([k, v]) => `${k}=${v}`), 'node', ...start.nodeFlags].join(' ');
}

function memory(m: MemorySample): string {
  return `RSS ${MB(m.rss)} = heap ${MB(m.heapUsed)} used of ${MB(m.heapTotal)} + external ${MB(m.external)} (array buffers ${MB(m.arrayBuffers)}) + code, stacks, native`;
}

function roomRows(profiled: BotRunResult): Row[] {
  const rooms = profiled.figures.cpuRooms;
  if (!rooms) throw new Error('the profiled run returned no profile');
  const jobs = profiled.cards.length;
  const total = rooms.reduce((a, r) => a + r.ms, 0);
  const shown = rooms.slice(0, ROOMS_SHOWN);
  const rest = rooms.slice(ROOMS_SHOWN).reduce((a, r) => a + r.ms, 0);
  const row = (room: string, ms: number): Row => ({
    benchmark: 'overhead',
    figure: `  CPU per job: ${room}`,
    value: `${fixed(ms / jobs, 1)} ms (${fixed((ms / total) * 100, 0)} %)`,
    target: null,
  });
  return [...shown.map((r) => row(r.room, r.ms)), ...(rest > 0 ? [row('everything else', rest)] : [])];
}

/** e.g. "7.2 (5.1 PATCH /webhooks/:app/:token/messages/:message, …)": what the REST share of the CPU pays for. */
function requestsPerJob(run: BotRunResult): string {
  const jobs = run.cards.length;
  const routes = Object.entries(run.discordRequests).sort((a, b) => b[1] - a[1]);
  const total = routes.reduce((a, [, n]) => a + n, 0);
  return `${fixed(total / jobs)} (${routes.map(([route, n]) => `${fixed(n / jobs)} ${route}`).join(', ')})`;
}

/** The fixed cost beside the per-job figure: information only, nothing is subtracted from it. */
function idleRow(control: BotRunResult): Row {
  const idle = control.idle;
  if (!idle) throw new Error('the control run measured no idle window');
  const ms = idle.cpuUserMs + idle.cpuSystemMs;
  return {
    benchmark: 'overhead',
    figure: `  bot CPU idle, ${control.workload.backends} backends and no job, over the control run's ${fixed(idle.windowMs / 1000, 1)} s`,
    value: `${fixed(ms)} ms (${fixed(ms / control.cards.length)} ms per job's share, not subtracted above)`,
    target: null,
  };
}

export async function runOverhead(): Promise<BenchResult> {
  const control = await botRun(CONTROL);
  const streaming = await botRun(STREAMING);
  const profiled = await botRun(PROFILED);
  const fresh = await botRun(FRESH_STREAMING);
  const perJob = cpu(control) / control.cards.length;
  const frames = streaming.figures.framesReceived;
  if (frames === 0) throw new Error('the streaming run received no preview frames, so there is no cost per preview to report');
  const perPreview = (cpu(streaming) - cpu(control)) / frames;
  const loop = streaming.figures.eventLoopDelayMs;
  if (!loop) throw new Error('the streaming run did not watch the event loop');
  const peakRss = fresh.figures.maxRssBytes;
  const { atStart, atPeak } = fresh.figures.memory;
  const jobsBefore = (w: BotWorkload) => 1 + (w.warmUpWaves ?? 0) * w.jobs;
  return {
    rows: [
      {
        benchmark: 'overhead',
        figure: 'bot CPU per job, control path (no media), steady state',
        value: `${fixed(perJob)} ms (user ${fixed(control.figures.cpuUserMs / control.cards.length)}, system ${fixed(control.figures.cpuSystemMs / control.cards.length)})`,
        target: atMost(perJob, 20, '≤ 20 ms'),
      },
      {
        benchmark: 'overhead',
        figure: `  the same in the ${control.warmUpCpuPerJob.length} waves of ${control.cards.length} jobs before (V8 still compiling)`,
        value: `${control.warmUpCpuPerJob.map((ms) => fixed(ms)).join(' / ')} ms`,
        target: null,
      },
      ...roomRows(profiled),
      idleRow(control),
      { benchmark: 'overhead', figure: '  Discord requests per job, control path', value: requestsPerJob(control), target: null },
      { benchmark: 'overhead', figure: 'bot CPU per preview frame', value: `${fixed(perPreview, 2)} ms`, target: null },
      { benchmark: 'overhead', figure: 'event-loop delay p99, 50 jobs streaming', value: `${fixed(loop.p99)} ms (p50 ${fixed(loop.p50)}, max ${fixed(loop.max)})`, target: below(loop.p99, 20, '< 20 ms') },
      { benchmark: 'overhead', figure: 'bot peak RSS, 50 jobs streaming (fresh start)', value: MB(peakRss), target: atMost(peakRss, 150 * 2 ** 20, '≤ 150 MB') },
      { benchmark: 'overhead', figure: '  memory at the peak (sampled)', value: memory(atPeak), target: null },
      { benchmark: 'overhead', figure: '  memory before the 50 jobs', value: memory(atStart), target: null },
      {
        benchmark: 'overhead',
        figure: `  peak RSS of the bot that ran ${jobsBefore(STREAMING)} jobs before the 50 (long-running)`,
        value: `${MB(streaming.figures.maxRssBytes)} (heap ${MB(streaming.figures.memory.atPeak.heapUsed)} used of ${MB(streaming.figures.memory.atPeak.heapTotal)})`,
        target: null,
      },
    ],
    method: [
      `control: ${describeWorkload(CONTROL)}; streaming: the same with previews on (${frames} frames received, ${streaming.figures.framesSuperseded} superseded before encoding)`,
      `control, streaming and profiled runs: one warm-up job, then ${WARM_UP_WAVES} unmeasured waves of the same workload, then the measured wave; the bot has run ${jobsBefore(CONTROL)} jobs before measuring, as a running bot has`,
      `CPU = user + system time of the bot process (process.cpuUsage, so other processes' load does not count) from the measured wave's first slash command to its last final edit; per job = control CPU / ${control.cards.length} (includes discord.js REST + gateway, scheduler, ComfyUI client, card edits); per preview = (streaming CPU − control CPU) / frames received`,
      `idle: right after the control run's jobs, the bot's CPU (same process, same ${CONTROL.backends} backends connected) over a window as long as that run, with no job`,
      `CPU by room: a third run of the control workload under V8's sampling profiler (node:inspector, 1 ms), each sample charged to the innermost frame of a room (Node internals to their caller), per job = room's samples / ${profiled.cards.length}; that run took ${fixed(cpu(profiled) / profiled.cards.length)} ms CPU per job with the profiler's own cost; its profile: ${profiled.figures.cpuProfilePath}`,
      'peak RSS = the kernel high-water mark of the bot process (process.resourceUsage().maxRSS, its whole life, start-up included), in a fourth run: the streaming workload on a fresh bot (one warm-up job, no warm-up waves); the breakdown is process.memoryUsage() sampled every 100 ms in that run, at its highest RSS and right after the warm-up job; the long-running figure is the warmed streaming run\'s',
      `the REAL bot (src/main.ts startApp) in its own process, run as production runs it: tsc's output under node with npm start's environment and flags (${startLine()}); event-loop delay = perf_hooks.monitorEventLoopDelay (10 ms resolution, subtracted) over the streaming run, in the bot process (only there: its timer would count in the control run's CPU); the fakes run in the bench process on the same 2 cores`,
    ],
  };
}
