// Outages members can see (issue 16): the real bot against a fake ComfyUI that goes away for a while (`down()`, then
// `up()`: a killed and restarted ComfyUI). The card says so within 5 s and then finishes; a job submitted while the
// only backend is down waits, saying so, and runs when it is back, or fails once `jobs.waitForBackendSeconds` ran out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentRevision, type StoredMessage } from '../fakes/discord/index.js';
import { botReady, describeHistory, embedOf, finalCardOf, spawnBot, startE2E, stopBot, type E2E } from '../e2e/harness.js';
import { JobTracker, reportFaults } from './e2e-jobs.js';

const config = (waitForBackendSeconds: number) => ['jobs:', '  outageNoticeSeconds: 1', `  waitForBackendSeconds: ${waitForBackendSeconds}`, ''].join('\n');
const AWAY = 'ComfyUI went away: the job will resume when it is back';
const WAITING = 'Waiting for a ComfyUI server to come back';

let e2e: E2E;
let tracker: JobTracker;
let faults = 0;
beforeAll(async () => {
  e2e = await startE2E({ logLevel: 'info', configYaml: config(600) });
  tracker = new JobTracker(e2e.comfy, e2e.discord);
}, 60_000);
afterAll(async () => {
  if (tracker) reportFaults('ComfyUI outages', tracker, faults);
  await e2e?.close();
}, 30_000);

/** The job's card once its current revision's text contains `text`; on a timeout, the card's history so far. */
async function cardSaying(token: string, text: string, timeoutMs: number): Promise<StoredMessage> {
  try {
    return await e2e.discord.waitFor(
      (d) => {
        const card = d.originalFor(token);
        return card && (embedOf(currentRevision(card))?.description ?? '').includes(text) ? card : undefined;
      },
      { timeoutMs, description: `the card to say "${text}"` },
    );
  } catch (error) {
    const card = e2e.discord.originalFor(token);
    throw new Error(`${(error as Error).message}\ncard so far:\n${card ? describeHistory(card) : '(none)'}\nbot log tail:\n${e2e.bot.lines.slice(-8).join('\n')}`);
  }
}

/** The bot's next log line containing `text` (lines logged before the call do not count). */
function nextLine(text: string, description: string): Promise<string> {
  const from = e2e.bot.lines.length;
  return e2e.bot.waitForLine((line) => line.includes(text) && e2e.bot.lines.lastIndexOf(line) >= from, 15_000, description);
}

/** Takes the fake ComfyUI down once the bot has noticed (its WebSocket closed). */
async function comfyDown(): Promise<void> {
  const noticed = nextLine('backend down', 'the bot to see the backend down');
  faults += 1;
  await e2e.comfy.down();
  await noticed;
}

/** Holds the fake's execution at step `step` of the job labelled `label`, then runs `fault`. */
function atStep(label: string, step: number, fault: () => Promise<void> | void): Promise<void> {
  return new Promise((resolve, reject) => {
    const onStep = (promptId: string, _node: string, value: number) => {
      if (value !== step || tracker.jobOfPrompt(promptId)?.label !== label) return;
      e2e.comfy.events.off('step', onStep);
      e2e.comfy.hold();
      faults += 1;
      Promise.resolve(fault()).then(resolve, reject);
    };
    e2e.comfy.events.on('step', onStep);
  });
}

describe('a ComfyUI that goes away', () => {
  it('killed mid-run: the card says so within 5 s, then the job is submitted again and delivered once', async () => {
    const killed = atStep('outage-kill', 2, async () => {
      await e2e.comfy.down();
      e2e.comfy.release();
    });
    const job = await tracker.submit('outage-kill', e2e.discord.userId, { steps: 6 });
    await killed;
    // The bound: the card tells the member within 5 s of ComfyUI going away.
    await cardSaying(job.token, AWAY, 5_000);
    await e2e.comfy.up();
    const card = await finalCardOf(e2e, job.token, /Done|Failed/, 30_000);
    expect(tracker.verdict(job)).toEqual({ kind: 'delivered', cards: 1 });
    // ComfyUI came back without the prompt: submitted once more, run once more.
    expect(job.promptIds).toHaveLength(2);
    expect(embedOf(currentRevision(card))?.description).not.toContain('went away');
  }, 60_000);

  it('cut off mid-run with the prompt still running: the card says so, then the prompt is adopted and delivered once', async () => {
    const cut = atStep('outage-cut', 2, () => e2e.comfy.faults.unreachable(true));
    const job = await tracker.submit('outage-cut', e2e.discord.userId, { steps: 6 });
    await cut;
    await cardSaying(job.token, AWAY, 5_000);
    const back = nextLine('backend up', 'the bot to reach ComfyUI again');
    e2e.comfy.faults.unreachable(false);
    await back;
    // Still held at its step: the prompt runs on from there on the reconnected socket.
    e2e.comfy.release();
    await finalCardOf(e2e, job.token, /Done|Failed/, 30_000);
    expect(tracker.verdict(job)).toEqual({ kind: 'delivered', cards: 1 });
    // Adopted where it was, not submitted again.
    expect(job.promptIds).toHaveLength(1);
  }, 60_000);

  it('a job submitted while the only backend is down waits, saying so, and runs when it is back', async () => {
    await comfyDown();
    const job = await tracker.submit('outage-wait', e2e.discord.userId, { steps: 2 });
    const waiting = await cardSaying(job.token, WAITING, 15_000);
    expect(embedOf(currentRevision(waiting))?.description).toContain('(up to 10 min)');
    expect(job.promptIds).toEqual([]);
    await e2e.comfy.up();
    await finalCardOf(e2e, job.token, /Done|Failed/, 30_000);
    expect(tracker.verdict(job)).toEqual({ kind: 'delivered', cards: 1 });
    expect(job.promptIds).toHaveLength(1);
  }, 60_000);

  it('fails a waiting job with the reason once jobs.waitForBackendSeconds has passed', async () => {
    await stopBot(e2e.bot);
    e2e.bot = spawnBot(e2e, { dataDir: e2e.dataDir, logLevel: 'info', configYaml: config(1) });
    await botReady(e2e);
    await comfyDown();
    const job = await tracker.submit('outage-give-up', e2e.discord.userId, { steps: 2 });
    const card = await finalCardOf(e2e, job.token, /Done|Failed/, 20_000);
    expect(embedOf(currentRevision(card))?.title).toBe('/imagine · Failed');
    expect(embedOf(currentRevision(card))?.description).toContain('all backends are down: no ComfyUI server able to run it came back within 1 s');
    expect(job.promptIds).toEqual([]);
    await e2e.comfy.up();
  }, 60_000);
});
