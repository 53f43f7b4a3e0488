// The real bot process against a fake ComfyUI that misbehaves mid-run: restarted (queue and history
// forgotten), its WebSocket dropped, its WebSocket silent. Each job still ends exactly once, with its results.
// The stall watchdog is set short (COMFYCORD_STALL_SECONDS), so the silent socket is noticed in seconds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeComfy } from '../fakes/comfy/index.js';
import { startE2E, type E2E } from '../e2e/harness.js';
import { JobTracker, reportFaults, type TrackedJob } from './e2e-jobs.js';

const STALL_SECONDS = 2;

let e2e: E2E;
let tracker: JobTracker;
let faults = 0;
beforeAll(async () => {
  e2e = await startE2E({ logLevel: 'info', env: { COMFYCORD_STALL_SECONDS: String(STALL_SECONDS) } });
  tracker = new JobTracker(e2e.comfy, e2e.discord);
}, 60_000);
afterAll(async () => {
  if (tracker) reportFaults('ComfyUI faults', tracker, faults);
  await e2e?.close();
}, 30_000);

/** Runs `fault` inside the fake's event for step `step` of the job's run, with the run held there. */
function atStep(comfy: FakeComfy, label: string, step: number, fault: () => Promise<void> | void): Promise<void> {
  return new Promise((resolve, reject) => {
    const onStep = (promptId: string, _node: string, value: number) => {
      if (value !== step || tracker.jobOfPrompt(promptId)?.label !== label) return;
      comfy.events.off('step', onStep);
      comfy.hold();
      faults += 1;
      Promise.resolve(fault()).then(resolve, reject);
    };
    comfy.events.on('step', onStep);
  });
}

async function ended(job: TrackedJob, timeoutMs: number): Promise<void> {
  await e2e.discord.waitFor(() => tracker.verdict(job).kind !== 'open', { timeoutMs, description: `${job.label} to end` });
}

function promptsOf(job: TrackedJob): Record<string, unknown>[] {
  return job.promptIds.map((id) => {
    const request = e2e.comfy.requests.find((r) => (r.body as { prompt_id?: string } | undefined)?.prompt_id === id);
    return (request?.body as { prompt: Record<string, unknown> }).prompt;
  });
}

describe('a misbehaving ComfyUI', () => {
  it('resubmits, with the same workflow and seed, a job whose ComfyUI restarted mid-run', async () => {
    const restarted = atStep(e2e.comfy, 'comfy-restart', 2, async () => {
      await e2e.comfy.restart();
      e2e.comfy.release();
    });
    const job = await tracker.submit('comfy-restart', e2e.discord.userId, { steps: 4 });
    await restarted;
    await ended(job, 20_000);
    expect(tracker.verdict(job)).toEqual({ kind: 'delivered', cards: 1 });
    expect(job.promptIds).toHaveLength(2);
    const [first, second] = promptsOf(job);
    expect(second).toEqual(first);
  }, 40_000);

  it('finishes a job whose WebSocket dropped mid-run, without running it twice', async () => {
    const dropped = atStep(e2e.comfy, 'comfy-drop', 2, () => {
      e2e.comfy.faults.dropSockets();
      e2e.comfy.release();
    });
    const job = await tracker.submit('comfy-drop', e2e.discord.userId, { steps: 4 });
    await dropped;
    await ended(job, 20_000);
    expect(tracker.verdict(job)).toEqual({ kind: 'delivered', cards: 1 });
    expect(job.promptIds).toHaveLength(1);
  }, 40_000);

  it('finishes a job whose WebSocket went silent mid-run, from /history', async () => {
    const stalled = atStep(e2e.comfy, 'comfy-stall', 1, () => {
      e2e.comfy.faults.stallSockets(true);
      e2e.comfy.release();
    });
    const job = await tracker.submit('comfy-stall', e2e.discord.userId, { steps: 4 });
    await stalled;
    const [promptId] = await e2e.comfy.next('prompt-done');
    // The run is over on the server and nothing told the bot: its stall watchdog must look it up.
    await ended(job, 20_000);
    e2e.comfy.faults.stallSockets(false);
    expect(tracker.verdict(job)).toEqual({ kind: 'delivered', cards: 1 });
    expect(e2e.comfy.requests.some((r) => r.method === 'GET' && r.path.includes(`/history/${promptId}`))).toBe(true);
  }, 40_000);
});
