// `docker stop` (SIGTERM) and Ctrl-C (SIGINT) in the middle of jobs: the bot exits within a few seconds,
// leaving running and queued jobs to the next start, which finishes each of them exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { botReady, spawnBot, startE2E, stopBot, type BotProcess, type E2E } from '../e2e/harness.js';
import { JobTracker, reportFaults } from './e2e-jobs.js';

const USERS = ['710000000000000001', '710000000000000002'];

let e2e: E2E;
let bot: BotProcess;
let tracker: JobTracker;
beforeAll(async () => {
  // Runs long enough (8 steps × 150 ms) for the card to show progress between frames.
  e2e = await startE2E({ logLevel: 'info', comfy: { stepDelayMs: 150 } });
  for (const id of USERS) e2e.discord.addMember({ id, username: `user${id.slice(-1)}` });
  bot = e2e.bot;
  tracker = new JobTracker(e2e.comfy, e2e.discord);
}, 60_000);
afterAll(async () => {
  // Each test stops or kills the bot once while jobs are open.
  if (tracker) reportFaults('Shutdown and restart', tracker, 3);
  if (bot !== e2e?.bot) await stopBot(bot);
  await e2e?.close();
}, 30_000);

/** A bot process that is up: the one from the last test, or a new one if that test left none running. */
async function runningBot(): Promise<BotProcess> {
  const alive = await Promise.race([bot.exited.then(() => false), Promise.resolve(true)]);
  if (alive) return bot;
  bot = spawnBot(e2e, { dataDir: e2e.dataDir, logLevel: 'info' });
  await botReady({ ...e2e, bot });
  return bot;
}

/** Holds the fake ComfyUI at the first sampler step of the job with that label. */
function holdAtStep(label: string): Promise<void> {
  return new Promise((resolve) => {
    const onStep = (promptId: string) => {
      if (tracker.jobOfPrompt(promptId)?.label !== label) return;
      e2e.comfy.events.off('step', onStep);
      e2e.comfy.hold();
      resolve();
    };
    e2e.comfy.events.on('step', onStep);
  });
}

describe.each(['SIGTERM', 'SIGINT'] as const)('%s while a job runs and another waits', (signal) => {
  it('exits promptly and the next start finishes both jobs once', async () => {
    await runningBot();
    e2e.comfy.release();
    const running = holdAtStep(`${signal}-running`);
    const first = await tracker.submit(`${signal}-running`, USERS[0]!, { steps: 4 });
    await running;
    const second = await tracker.submit(`${signal}-queued`, USERS[1]!, { steps: 4 });
    await e2e.discord.waitFor((d) => /Queued/.test(JSON.stringify(d.originalFor(second.token)?.history.at(-1)?.embeds ?? [])), {
      timeoutMs: 10_000,
      description: 'the second job queued',
    });

    const stoppedAt = Date.now();
    const code = await bot.kill(signal);
    expect(code).toBe(0);
    const took = Date.now() - stoppedAt;
    expect(took, `stop took ${took} ms; last lines:\n${bot.lines.slice(-8).join('\n')}`).toBeLessThan(5_000);
    // Nothing was given up on the way out: neither job ended.
    expect([tracker.verdict(first).kind, tracker.verdict(second).kind]).toEqual(['open', 'open']);
    expect(e2e.comfy.queue.running?.promptId).toBe(first.promptIds[0]);

    e2e.comfy.release();
    bot = spawnBot(e2e, { dataDir: e2e.dataDir, logLevel: 'info' });
    await botReady({ ...e2e, bot });
    await e2e.discord.waitFor(() => tracker.openJobs().length === 0, { timeoutMs: 30_000, description: 'both jobs to end' });
    expect([tracker.verdict(first), tracker.verdict(second)]).toEqual([
      { kind: 'delivered', cards: 1 },
      { kind: 'delivered', cards: 1 },
    ]);
    expect(first.promptIds).toHaveLength(1);
  }, 60_000);
});

describe('a job still running on ComfyUI when the bot comes back', () => {
  it('gets its card back and keeps updating it live until done', async () => {
    await runningBot();
    const held = holdAtStep('restart-live');
    const job = await tracker.submit('restart-live', USERS[0]!, { steps: 8 });
    await held;
    bot.child.kill('SIGKILL');
    await bot.exited;

    bot = spawnBot(e2e, { dataDir: e2e.dataDir, logLevel: 'info' });
    await botReady({ ...e2e, bot });
    const card = e2e.discord.originalFor(job.token)!;
    const before = card.history.length;
    const released = Date.now();
    e2e.comfy.release();
    await e2e.discord.waitFor(() => tracker.verdict(job).kind !== 'open', { timeoutMs: 30_000, description: 'the adopted job to end' });
    // Live frames, not the 30 s stall watchdog, brought it home: the restarted bot kept ComfyUI's client id.
    expect(Date.now() - released).toBeLessThan(10_000);
    const after = card.history.slice(before).map((r) => String((r.embeds[0] as { title?: unknown } | undefined)?.title ?? ''));
    expect(after.some((title) => title.endsWith('Running'))).toBe(true);
    expect(tracker.verdict(job)).toEqual({ kind: 'delivered', cards: 1 });
  }, 60_000);
});
