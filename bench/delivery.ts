// 5. Delivery latency: from execution_success on the fake ComfyUI to the final card edit accepted by the fake
// Discord (history read, outputs downloaded, final edit with the image), in the streaming workload of benchmark 2.
import { botRun, deliveryTimes } from './botRun.js';
import { describeWorkload, STREAMING_WORKLOAD } from './freshness.js';
import { below, fixed, type BenchResult } from './report.js';
import { median, p95 } from './stats.js';

export async function runDelivery(): Promise<BenchResult> {
  const run = await botRun(STREAMING_WORKLOAD);
  const times = deliveryTimes(run);
  const what = 'set of delivered jobs';
  const total = times.map((t) => t.total);
  const job = times.flatMap((t) => (t.job === null ? [] : [t.job]));
  const card = times.flatMap((t) => (t.card === null ? [] : [t.card]));
  const split = (xs: number[]) => (xs.length === 0 ? 'not recorded' : `median ${fixed(median(xs))} / p95 ${fixed(p95(xs))} ms`);
  return {
    rows: [
      { benchmark: 'delivery', figure: 'execution_success → Done card, median', value: `${fixed(median(total, what))} ms`, target: null },
      { benchmark: 'delivery', figure: 'execution_success → Done card, p95', value: `${fixed(p95(total, what))} ms`, target: below(p95(total, what), 150, '< 150 ms') },
      { benchmark: 'delivery', figure: '… of which: until the job ended (outputs in)', value: split(job), target: null },
      { benchmark: 'delivery', figure: '… of which: job ended → Done card stored', value: split(card), target: null },
    ],
    method: [
      `same run as freshness (${describeWorkload(STREAMING_WORKLOAD)}): ${times.length} jobs Done`,
      'from the fake ComfyUI sending execution_success to the fake Discord storing the Done card (history read, output downloaded and fitted, final edit with the 512×512 PNG on loopback, so upload bandwidth plays no part); the final edit goes through the card editor and the channel pacer at the highest priority; the split uses the job\'s end as the bot\'s job store recorded it (whole ms)',
    ],
  };
}
