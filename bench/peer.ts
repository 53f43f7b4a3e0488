// 6. Peer: the same 200 prompts with previews through comfycord's ComfyClient and through @saintno/comfyui-sdk,
// each in its own process against the same fake ComfyUI (restarted in between): CPU, peak memory, and how many
// completions each missed — including fully cached re-runs and prompts in flight when the sockets dropped.
import type { ApiWorkflow } from '../src/comfy/types.js';
import { startComfyPool } from './fakes.js';
import { Child, now } from './ipc.js';
import { fixed, type BenchResult } from './report.js';
import type { PeerName, PeerParams, PeerReport } from './sut/peer.js';
import { samplerWorkflow } from './workload.js';

const PROMPTS = 200;
const STEPS = 8;
const CONCURRENCY = 10;
const TIMEOUT_MS = 5000;
/** Socket drops after this many prompts finished on the server. */
const DROPS_AFTER = [60, 140];

/** Every 10th prompt repeats the one before it exactly: ComfyUI answers it from cache without running a node. */
export function peerWorkflows(count: number, steps: number): { workflows: ApiWorkflow[]; cached: Set<number> } {
  const workflows: ApiWorkflow[] = [];
  const cached = new Set<number>();
  for (let i = 0; i < count; i++) {
    const repeat = i % 10 === 9;
    if (repeat) cached.add(i);
    workflows.push(samplerWorkflow(repeat ? i : i + 1, steps));
  }
  return { workflows, cached };
}

interface PeerRun {
  report: PeerReport;
  drops: number[];
}

export async function runPeer(): Promise<BenchResult> {
  const { workflows, cached } = peerWorkflows(PROMPTS, STEPS);
  const pool = await startComfyPool(1, { stepDelayMs: 2, previewMethod: 'auto' });
  const fake = pool.fakes[0]!;
  const runs = new Map<PeerName, PeerRun>();
  try {
    for (const library of ['comfycord', 'saintno'] as const) {
      await fake.restart();
      const drops: number[] = [];
      let done = 0;
      const onDone = () => {
        done += 1;
        if (DROPS_AFTER.includes(done)) {
          drops.push(now());
          fake.faults.dropSockets();
        }
      };
      fake.events.on('prompt-done', onDone);
      const child = Child.start('sut/peer.ts', `${library} peer process`);
      try {
        const params: PeerParams = { library, url: fake.url, workflows, concurrency: CONCURRENCY, timeoutMs: TIMEOUT_MS };
        runs.set(library, { report: await child.call<PeerReport>('run', params, 300_000), drops });
      } finally {
        fake.events.off('prompt-done', onDone);
        await child.stop();
      }
    }
  } finally {
    await pool.close();
  }
  const ours = runs.get('comfycord')!;
  const theirs = runs.get('saintno')!;
  const cpu = (r: PeerRun) => r.report.cpuUserMs + r.report.cpuSystemMs;
  const mb = (r: PeerRun) => r.report.maxRssBytes / 2 ** 20;
  const rows: BenchResult['rows'] = [
    { benchmark: 'peer', figure: 'CPU, comfycord / saintno', value: `${fixed(cpu(ours), 0)} / ${fixed(cpu(theirs), 0)} ms (ratio ${fixed(cpu(ours) / cpu(theirs), 2)})`, target: null },
    { benchmark: 'peer', figure: 'peak RSS, comfycord / saintno', value: `${fixed(mb(ours), 0)} / ${fixed(mb(theirs), 0)} MB (ratio ${fixed(mb(ours) / mb(theirs), 2)})`, target: null },
  ];
  for (const [name, run] of [['comfycord', ours], ['saintno', theirs]] as const) {
    const m = misses(run, cached);
    rows.push({
      benchmark: 'peer',
      figure: `${name}: completions missed of ${PROMPTS}`,
      value: `${m.total} (cached re-runs ${m.cached}/${cached.size}, others during/after a socket drop ${m.afterDrop}, before any drop ${m.other}); ${m.failed} reported failed`,
      target: null,
    });
  }
  return {
    rows,
    method: [
      `${PROMPTS} prompts (${STEPS}-step sampler, a preview per step, fake at 2 ms per step and node; every 10th prompt an exact repeat = fully cached), ${CONCURRENCY} in flight at a time, each prompt's output PNG downloaded; the fake ComfyUI drops every socket after ${DROPS_AFTER.join(' and ')} prompts finished`,
      `each library in its own Node process (tsx), CPU = user + system from the first submit to the last prompt settled, peak RSS = the process's maxRSS (Node and the tsx loader included in both); a prompt not finished ${TIMEOUT_MS / 1000} s after submission counts as missed`,
      `saintno used as its README shows: ComfyApi.init().waitForReady(), PromptBuilder + CallWrapper.run(), getImage() per output`,
    ],
  };
}

function misses(run: PeerRun, cached: Set<number>): { total: number; cached: number; afterDrop: number; other: number; failed: number } {
  const firstDrop = Math.min(...run.drops);
  let total = 0;
  let cachedMissed = 0;
  let afterDrop = 0;
  let failed = 0;
  run.report.outcomes.forEach((o, i) => {
    if (o.outcome.kind === 'done') return;
    total += 1;
    if (o.outcome.kind === 'failed') failed += 1;
    if (cached.has(i)) cachedMissed += 1;
    else if (o.settledAt >= firstDrop) afterDrop += 1;
  });
  return { total, cached: cachedMissed, afterDrop, other: total - cachedMissed - afterDrop, failed };
}
