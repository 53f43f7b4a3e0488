// 3. Overhead: the bot's own CPU per job on the control path (previews off), its CPU per preview (the same
// workload with previews on, minus the control path), and its event-loop delay while 50 jobs stream at once.
import { botRun, type BotWorkload } from './botRun.js';
import { describeWorkload } from './freshness.js';
import { below, fixed, type BenchResult } from './report.js';

const STREAMING: BotWorkload = { jobs: 50, channels: 5, backends: 50, steps: 50, stepDelayMs: 100, previews: true, arrivalsPerSecond: 25 };
const CONTROL: BotWorkload = { ...STREAMING, previews: false };

export async function runOverhead(): Promise<BenchResult> {
  const control = await botRun(CONTROL);
  const streaming = await botRun(STREAMING);
  const cpu = (r: typeof control) => r.figures.cpuUserMs + r.figures.cpuSystemMs;
  const perJob = cpu(control) / control.cards.length;
  const frames = streaming.figures.framesReceived;
  if (frames === 0) throw new Error('the streaming run received no preview frames, so there is no cost per preview to report');
  const perPreview = (cpu(streaming) - cpu(control)) / frames;
  const loop = streaming.figures.eventLoopDelayMs;
  return {
    rows: [
      { benchmark: 'overhead', figure: 'bot CPU per job, control path (no media)', value: `${fixed(perJob)} ms`, target: null },
      { benchmark: 'overhead', figure: 'bot CPU per preview frame', value: `${fixed(perPreview, 2)} ms`, target: null },
      { benchmark: 'overhead', figure: 'event-loop delay p99, 50 jobs streaming', value: `${fixed(loop.p99)} ms (p50 ${fixed(loop.p50)}, max ${fixed(loop.max)})`, target: below(loop.p99, 20, '< 20 ms') },
      { benchmark: 'overhead', figure: 'bot peak RSS, 50 jobs streaming', value: `${fixed(streaming.figures.maxRssBytes / 2 ** 20, 0)} MB`, target: null },
    ],
    method: [
      `control: ${describeWorkload(CONTROL)}; streaming: the same with previews on (${frames} frames received, ${streaming.figures.framesSuperseded} superseded before encoding)`,
      `CPU = user + system time of the bot process (process.cpuUsage) from the first slash command to the last final edit; per job = control CPU / ${control.cards.length} (includes discord.js REST + gateway, scheduler, ComfyUI client, card edits); per preview = (streaming CPU − control CPU) / frames received`,
      'the REAL bot (src/main.ts startApp) in its own process; event-loop delay = perf_hooks.monitorEventLoopDelay (10 ms resolution, subtracted) over the streaming run, in the bot process; the fakes run in the bench process on the same 2 cores',
    ],
  };
}
