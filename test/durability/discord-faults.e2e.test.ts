// The real bot process against a fake Discord that fails while results are being delivered: 5xx and 429
// storms (retried by discord.js), an expired interaction token and a deleted card (the card moves to a channel
// message), and a delivery that keeps failing (kept in the store, shown by /queue, delivered after a restart).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { botReady, describeHistory, spawnBot, startE2E, stopBot, type BotProcess, type E2E } from '../e2e/harness.js';
import { currentRevision, Permissions } from '../fakes/discord/index.js';
import { JobTracker, reportFaults, type TrackedJob } from './e2e-jobs.js';

const DELIVERY_ROUTES = /^\/(webhooks|channels)\//;

let e2e: E2E;
let bot: BotProcess;
let tracker: JobTracker;
let faults = 0;
beforeAll(async () => {
  e2e = await startE2E({ logLevel: 'info' });
  bot = e2e.bot;
  tracker = new JobTracker(e2e.comfy, e2e.discord);
}, 60_000);
afterAll(async () => {
  if (tracker) reportFaults('Discord faults', tracker, faults);
  if (bot !== e2e?.bot) await stopBot(bot);
  await e2e?.close();
}, 30_000);

/** Runs `fault` when ComfyUI has finished the job's run, i.e. just before the bot delivers it. */
function whenRunEnds(label: string, fault: () => void): Promise<void> {
  return new Promise((resolve) => {
    const onDone = (promptId: string) => {
      if (tracker.jobOfPrompt(promptId)?.label !== label) return;
      e2e.comfy.events.off('prompt-done', onDone);
      faults += 1;
      fault();
      resolve();
    };
    e2e.comfy.events.on('prompt-done', onDone);
  });
}

async function ended(job: TrackedJob, timeoutMs = 20_000): Promise<void> {
  await e2e.discord.waitFor(() => tracker.verdict(job).kind !== 'open', { timeoutMs, description: `${job.label} to end` }).catch((error: unknown) => {
    const seen = tracker.messagesOf(job).map((m) => `${m.kind} in ${m.channelId}:\n${describeHistory(m)}`).join('\n');
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${JSON.stringify(tracker.verdict(job))}\n${seen}`);
  });
}

describe('Discord failing during delivery', () => {
  it('delivers once through a storm of 5xx answers', async () => {
    const storm = whenRunEnds('discord-5xx', () => {
      for (const status of [500, 502, 503]) e2e.discord.faults.failNext({ route: DELIVERY_ROUTES, status, times: 1 });
    });
    const job = await tracker.submit('discord-5xx', e2e.discord.userId, { steps: 2 });
    await storm;
    await ended(job);
    expect(tracker.verdict(job)).toEqual({ kind: 'delivered', cards: 1 });
    expect(e2e.discord.requests.filter((r) => r.status >= 500).length).toBeGreaterThanOrEqual(3);
  }, 30_000);

  it('delivers once through a storm of 429 answers', async () => {
    const storm = whenRunEnds('discord-429', () => {
      e2e.discord.faults.failNext({ route: DELIVERY_ROUTES, status: 429, times: 5, retryAfter: 0.1 });
    });
    const job = await tracker.submit('discord-429', e2e.discord.userId, { steps: 2 });
    await storm;
    await ended(job);
    expect(tracker.verdict(job)).toEqual({ kind: 'delivered', cards: 1 });
    expect(Object.values(e2e.discord.rateLimitHits).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(5);
  }, 30_000);

  it('moves the card to a channel message when the interaction token has expired, and delivers there', async () => {
    const expired = whenRunEnds('discord-expired', () => e2e.discord.advance(15 * 60_000 + 1_000));
    const job = await tracker.submit('discord-expired', e2e.discord.userId, { steps: 2 });
    await expired;
    await ended(job);
    const verdict = tracker.verdict(job);
    expect(verdict.kind).toBe('delivered');
    const channelCards = tracker.messagesOf(job).filter((m) => m.kind === 'channel' && currentRevision(m).embeds.length > 0);
    expect(channelCards.length).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('posts a new card when the old one was deleted, and delivers there once', async () => {
    const deleted = whenRunEnds('discord-deleted', () => {
      const card = e2e.discord.messages.find((m) => tracker.messagesOf(job).includes(m));
      if (card) e2e.discord.faults.deleteMessage(card.id);
    });
    const job: TrackedJob = await tracker.submit('discord-deleted', e2e.discord.userId, { steps: 2 });
    await deleted;
    await ended(job);
    expect(tracker.verdict(job).kind).toBe('delivered');
  }, 30_000);

  it('sends the results to the owner by DM when the bot may no longer post in the channel', async () => {
    const channel = e2e.discord.guild().channels.find((c) => c.id === e2e.discord.channelId)!;
    const revoked = whenRunEnds('discord-forbidden', () => {
      // The card can no longer be reached by its interaction token, and the channel is closed to the bot.
      e2e.discord.advance(15 * 60_000 + 1_000);
      channel.botDeny = Permissions.SendMessages | Permissions.AttachFiles;
    });
    const job = await tracker.submit('discord-forbidden', e2e.discord.userId, { steps: 2 });
    try {
      await revoked;
      await ended(job);
    } finally {
      channel.botDeny = 0n;
    }
    expect(tracker.verdict(job).kind).toBe('delivered');
    const dm = e2e.discord.dmChannelFor(e2e.discord.userId);
    expect(tracker.messagesOf(job).some((m) => m.channelId === dm && currentRevision(m).attachments.length > 0)).toBe(true);
  }, 30_000);

  it('keeps a result Discord will not take, shows it in /queue, and delivers it after a restart', async () => {
    let failures = 0;
    const job: TrackedJob = await tracker.submit('discord-outage', e2e.discord.userId, { steps: 2 });
    // Everything the job's card and results could use fails: its interaction webhook and every channel post.
    const outageRoute = new RegExp(`^/(webhooks/[^/]+/${job.token}/|channels/)`);
    const countFailures = (r: { path: string; status: number }) => {
      if (outageRoute.test(r.path) && r.status === 503) failures += 1;
    };
    e2e.discord.events.on('request', countFailures);
    await whenRunEnds('discord-outage', () => e2e.discord.faults.failNext({ route: outageRoute, status: 503, times: 10_000 }));
    // Well past discord.js's own retries of one request: the bot has given up on delivering for now.
    await e2e.discord.waitFor(() => failures >= 8, { timeoutMs: 30_000, description: 'the delivery to fail repeatedly' });
    expect(tracker.verdict(job).kind).toBe('open');

    const { token } = await e2e.discord.slash('queue', {});
    const reply = await e2e.discord.waitFor((d) => {
      const m = d.originalFor(token);
      return m && currentRevision(m).embeds.length > 0 ? m : undefined;
    }, { timeoutMs: 10_000, description: 'the /queue reply' });
    const listing = JSON.stringify(currentRevision(reply).embeds);
    expect(listing).toMatch(/deliver/i);
    expect(listing).toContain('imagine');

    e2e.discord.faults.clear();
    e2e.discord.events.off('request', countFailures);
    await stopBot(bot);
    bot = spawnBot(e2e, { dataDir: e2e.dataDir, logLevel: 'info' });
    await botReady({ ...e2e, bot });
    await ended(job, 30_000);
    expect(tracker.verdict(job).kind).toBe('delivered');
  }, 90_000);
});
