// Nothing is retried forever: a finished job whose results can never be had again is tried a few times, then
// failed with the reason on its card; /queue stops listing it and the store no longer holds it as pending (so
// retention prunes it). The real bot process, with short retry settings, against both fakes.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { botReady, describeHistory, spawnBot, startE2E, stopBot, type BotProcess, type E2E } from '../e2e/harness.js';
import { currentRevision } from '../fakes/discord/index.js';
import { JobTracker, type TrackedJob } from './e2e-jobs.js';

const CONFIG = 'jobs:\n  deliveryTries: 3\n  deliveryRetrySeconds: 1\n';

let e2e: E2E;
let bot: BotProcess;
let tracker: JobTracker;
beforeAll(async () => {
  e2e = await startE2E({ configYaml: CONFIG });
  bot = e2e.bot;
  tracker = new JobTracker(e2e.comfy, e2e.discord);
}, 60_000);
afterAll(async () => {
  if (bot !== e2e?.bot) await stopBot(bot);
  await e2e?.close();
}, 30_000);

/** A log line printed since `from` that matches. */
function lineSince(from: number, text: string, description: string): Promise<string> {
  return bot.waitForLine((line) => line.includes(text) && bot.lines.indexOf(line, from) >= from, 30_000, description);
}

/**
 * The job's results made pending: every Discord route its card and results could use fails while it is delivered.
 * `whileDelivering` runs once the bot has the files and is failing to post them; the faults are lifted once the
 * results are kept pending.
 */
async function finishUndelivered(label: string, whileDelivering: (outputs: string[]) => void = () => undefined): Promise<TrackedJob> {
  const from = bot.lines.length;
  const job = await tracker.submit(label, e2e.discord.userId, { steps: 2 });
  const outputs: string[] = [];
  await new Promise<void>((resolve) => {
    const onDone = (promptId: string) => {
      if (tracker.jobOfPrompt(promptId)?.label !== label) return;
      e2e.comfy.events.off('prompt-done', onDone);
      const entry = e2e.comfy.history.get(promptId) as { outputs?: Record<string, { images?: { filename: string; subfolder: string; type: string }[] }> } | undefined;
      for (const image of Object.values(entry?.outputs ?? {}).flatMap((o) => o.images ?? [])) {
        outputs.push(join(e2e.comfy.dataDir, image.type, image.subfolder, image.filename));
      }
      e2e.discord.faults.failNext({ route: new RegExp(`^/(webhooks/[^/]+/${job.token}/|channels/)`), status: 503, times: 10_000 });
      resolve();
    };
    e2e.comfy.events.on('prompt-done', onDone);
  });
  expect(outputs.length).toBeGreaterThan(0);
  await lineSince(from, 'final card edit failed; retrying', 'the first failed delivery');
  whileDelivering(outputs);
  await lineSince(from, 'kept pending and retried', 'the results kept pending');
  e2e.discord.faults.clear();
  return job;
}

async function queueListing(): Promise<string> {
  const { token } = await e2e.discord.slash('queue', {});
  const reply = await e2e.discord.waitFor((d) => {
    const m = d.originalFor(token);
    return m && currentRevision(m).embeds.length > 0 ? m : undefined;
  }, { timeoutMs: 10_000, description: 'the /queue reply' });
  return JSON.stringify(currentRevision(reply).embeds);
}

function storedState(label: string): { state: string; delivery: string; error: string | null } | undefined {
  const db = new Database(join(e2e.dataDir, 'comfycord.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT params, state, delivery, error FROM jobs').all() as { params: string; state: string; delivery: string; error: string | null }[];
    return rows.find((r) => (JSON.parse(r.params) as { prompt: string }).prompt === label);
  } finally {
    db.close();
  }
}

async function failedCard(job: TrackedJob): Promise<string> {
  await e2e.discord.waitFor(() => tracker.verdict(job).kind === 'failed', { timeoutMs: 45_000, description: `${job.label} to be failed` }).catch((error: Error) => {
    const seen = tracker.messagesOf(job).map((m) => describeHistory(m)).join('\n');
    const log = bot.lines.filter((l) => /pending|gave up|downloaded again|job card|card/.test(l)).slice(-25).join('\n');
    throw new Error(`${error.message}\n${JSON.stringify(tracker.verdict(job))}\n${seen}\n${log}`);
  });
  const verdict = tracker.verdict(job);
  return verdict.kind === 'failed' ? verdict.message : '';
}

describe('results that can never be delivered', () => {
  it('gives up when ComfyUI no longer has the output files (/view 404), and says so on the card', async () => {
    let before = 0;
    let outputs: string[] = [];
    const job = await finishUndelivered('lost-output', (files) => {
      // ComfyUI lost the files (a restart clears temp/; here the output itself is gone): /view answers 404.
      outputs = files;
      for (const file of files) rmSync(file);
      before = e2e.comfy.requests.length;
    });

    const message = await failedCard(job);
    expect(message).toContain('its results could not be delivered: ComfyUI (comfy-1) no longer has the output files');
    // Tried exactly jobs.deliveryTries times, one /view per output each time.
    const views = e2e.comfy.requests.slice(before).filter((r) => /\/view(\?|$)/.test(r.path));
    expect(views.length).toBe(3 * outputs.length);
    expect(storedState('lost-output')).toMatchObject({ state: 'failed', delivery: 'none' });
    expect(await queueListing()).toContain('You have no jobs');
  }, 90_000);

  it('gives up when the backend the job ran on is no longer configured, after a restart', async () => {
    const job = await finishUndelivered('lost-backend');
    expect(await queueListing()).toContain('imagine');
    await stopBot(bot);
    // The same ComfyUI under another name: the job's backend "comfy-1" is gone from the config.
    bot = spawnBot(e2e, { dataDir: e2e.dataDir, configYaml: `${CONFIG}backends:\n  - name: renamed\n    url: ${e2e.comfy.url}\n` });
    await botReady({ ...e2e, bot });
    const message = await failedCard(job);
    expect(message).toContain('the backend it ran on (comfy-1) is no longer configured');
    expect(storedState('lost-backend')).toMatchObject({ state: 'failed', delivery: 'none' });
    expect(await queueListing()).toContain('You have no jobs');
  }, 90_000);
});
