// 2. Freshness: 10 previews a second per job from the fake ComfyUI, 100 jobs in 5 channels, Discord's per-route
// limits enforced by the fake Discord. How old is the preview a user sees, and does the bot ever cause a 429?
import { DEFAULT_RATE_LIMITS } from '../test/fakes/discord/rateLimits.js';
import { botRun, previewAges, type BotWorkload } from './botRun.js';
import { atMost, below, fixed, type BenchResult } from './report.js';
import { mean, median, p95 } from './stats.js';

/** Shared with the delivery benchmark, which measures the same run. */
export const STREAMING_WORKLOAD: BotWorkload = { jobs: 100, channels: 5, backends: 20, steps: 30, stepDelayMs: 100, previews: true, arrivalsPerSecond: 10 };

export function describeWorkload(w: BotWorkload): string {
  return `${w.jobs} /imagine from ${w.jobs} users at ${w.arrivalsPerSecond}/s over ${w.channels} channels; ${w.backends} fake ComfyUI (capacity 1) running a ${w.steps}-step sampler at ${w.stepDelayMs} ms per step and per node${w.previews ? ` (a 512×512 JPEG preview per step = ${fixed(1000 / w.stepDelayMs, 0)}/s)` : ', previews off'}`;
}

const limit = (route: keyof typeof DEFAULT_RATE_LIMITS) => `${DEFAULT_RATE_LIMITS[route].limit}/${DEFAULT_RATE_LIMITS[route].windowMs / 1000} s`;

export async function runFreshness(): Promise<BenchResult> {
  const run = await botRun(STREAMING_WORKLOAD);
  const hits = Object.values(run.rateLimitHits).reduce((a, b) => a + b, 0);
  const ages = previewAges(run);
  const edits = run.cards.map((c) => c.edits);
  const withPreview = new Set(run.figures.previewEdits.map((e) => e.jobId));
  const done = run.cards.filter((c) => c.finalTitle.endsWith('· Done')).length;
  const routes = Object.entries(run.rateLimitHits).map(([r, n]) => `${r}: ${n}`).join(', ');
  return {
    rows: [
      { benchmark: 'freshness', figure: '429s from the fake Discord', value: `${hits}${routes ? ` (${routes})` : ''}`, target: atMost(hits, 0, '0') },
      { benchmark: 'freshness', figure: 'preview age at edit, median', value: `${fixed(median(ages, 'set of preview edits'))} ms`, target: null },
      { benchmark: 'freshness', figure: 'preview age at edit, p95', value: `${fixed(p95(ages, 'set of preview edits'))} ms`, target: below(p95(ages), 1500, '< 1500 ms') },
      { benchmark: 'freshness', figure: 'card edits per job, mean (min–max)', value: `${fixed(mean(edits))} (${Math.min(...edits)}–${Math.max(...edits)})`, target: null },
      { benchmark: 'freshness', figure: 'edits showing a preview; jobs that showed none', value: `${ages.length}; ${run.cards.length - withPreview.size}/${run.cards.length}`, target: null },
      { benchmark: 'freshness', figure: 'cards that reached Done', value: `${done}/${run.cards.length}`, target: null },
    ],
    method: [
      `${describeWorkload(STREAMING_WORKLOAD)}; fake Discord with its Discord-like buckets (webhook ${limit('webhook')} per token, channel ${limit('channel')} per channel)`,
      'the REAL bot (src/main.ts startApp with the shipped commands/ and templates/, /imagine) in its own process; a hook on PreviewEncoder.submit and discord.js REST.queueRequest (behaviour unchanged) tells which preview frame each accepted edit carried',
      `age = when the fake Discord's answer to an edit reached the bot − when the fake ComfyUI sent that preview frame (${run.figures.framesReceived} frames received, ${run.figures.framesSuperseded} superseded before encoding); run took ${fixed(run.durationMs / 1000)} s`,
    ],
  };
}
