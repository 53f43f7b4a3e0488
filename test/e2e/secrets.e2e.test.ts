// The worst paths for secrets in logs, with the real bot process at debug level: Discord errors that carry the
// interaction webhook URL (a 403 on a card edit), the request body with a 200 KB result (a failed upload), and a
// DM that cannot be sent. No log line may hold the bot token, a ComfyUI API key, an interaction token, or more
// than 2 KB in one field.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobTracker, type TrackedJob } from '../durability/e2e-jobs.js';
import { Permissions } from '../fakes/discord/index.js';
import { startE2E, type E2E } from './harness.js';

const API_KEY = 'cloud-key-5f1e0c2a9b7d4e3f';
const MAX_FIELD = 2048;

let e2e: E2E;
let tracker: JobTracker;
beforeAll(async () => {
  e2e = await startE2E({ logLevel: 'debug', comfy: { profile: 'cloud', apiKey: API_KEY }, env: { COMFY_API_KEY: API_KEY } });
  tracker = new JobTracker(e2e.comfy, e2e.discord);
}, 60_000);
afterAll(async () => {
  await e2e?.close();
}, 30_000);

/** Runs `fault` when ComfyUI has finished the job's run, i.e. just before the bot delivers it. */
function whenRunEnds(label: string, fault: (promptId: string) => void | Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDone = (promptId: string) => {
      if (tracker.jobOfPrompt(promptId)?.label !== label) return;
      e2e.comfy.events.off('prompt-done', onDone);
      Promise.resolve(fault(promptId)).then(resolve, reject);
    };
    e2e.comfy.events.on('prompt-done', onDone);
  });
}

/** Waits for a log line printed from now on that matches. */
function waitForLog(pattern: RegExp, description: string): Promise<string> {
  const from = e2e.bot.lines.length;
  return e2e.bot.waitForLine((line) => pattern.test(line) && e2e.bot.lines.indexOf(line, from) >= from, 40_000, description);
}

/** Every string anywhere in a parsed JSON line. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return [...Object.keys(value), ...Object.values(value).flatMap(strings)];
  return [];
}

/** A still PNG of incompressible pixels, as large as a real render: ~200 KB. */
function noisePng(): Promise<Buffer> {
  return sharp({ create: { width: 300, height: 300, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
    .png()
    .toBuffer();
}

/** The render ComfyUI saved is replaced by a realistic one before the bot downloads it. */
function replaceOutputs(promptId: string, bytes: Buffer): void {
  const entry = e2e.comfy.history.get(promptId) as { outputs?: Record<string, { images?: { filename: string; subfolder: string }[] }> } | undefined;
  const images = Object.values(entry?.outputs ?? {}).flatMap((o) => o.images ?? []);
  if (images.length === 0) throw new Error(`prompt ${promptId} has no image outputs to replace`);
  for (const image of images) writeFileSync(join(e2e.comfy.dataDir, 'output', image.subfolder, image.filename), bytes);
}

describe('secrets on the worst paths', () => {
  const jobs: TrackedJob[] = [];

  it('a 403 on every use of the interaction webhook', async () => {
    const job = await tracker.submit('secret-403', e2e.discord.userId, { steps: 2 });
    jobs.push(job);
    const logged = waitForLog(/bot may not write the card/, 'the refused edit of the reply logged');
    e2e.discord.faults.failNext({ route: `/webhooks/${e2e.discord.applicationId}/${job.token}/`, status: 403, times: 10_000 });
    try {
      await logged;
      await e2e.discord.waitFor(() => tracker.verdict(job).kind !== 'open', { timeoutMs: 30_000, description: 'the job to end' });
    } finally {
      e2e.discord.faults.clear();
    }
  }, 60_000);

  it('a failed upload of a 200 KB result', async () => {
    const big = await noisePng();
    expect(big.length).toBeGreaterThan(200_000);
    const job = await tracker.submit('secret-upload', e2e.discord.userId, { steps: 2 });
    jobs.push(job);
    const keptPending = waitForLog(/kept pending/, 'the failed delivery logged');
    try {
      await whenRunEnds('secret-upload', (promptId) => {
        replaceOutputs(promptId, big);
        e2e.discord.faults.failNext({ route: new RegExp(`^/(webhooks/[^/]+/${job.token}/|channels/)`), status: 500, times: 10_000 });
      });
      await keptPending;
    } finally {
      e2e.discord.faults.clear();
    }
  }, 90_000);

  it('a DM with a 200 KB result that cannot be sent', async () => {
    const big = await noisePng();
    const channel = e2e.discord.guild().channels.find((c) => c.id === e2e.discord.channelId)!;
    const job = await tracker.submit('secret-dm', e2e.discord.userId, { steps: 2 });
    jobs.push(job);
    const logged = waitForLog(/could not send the results another way either/, 'the failed DM logged');
    try {
      await whenRunEnds('secret-dm', (promptId) => {
        replaceOutputs(promptId, big);
        // The card can no longer be reached by its token, the channel is closed to the bot, and so are the owner's
        // DMs: every message to a channel other than the guild's is refused.
        e2e.discord.advance(15 * 60_000 + 1_000);
        channel.botDeny = Permissions.SendMessages | Permissions.AttachFiles;
        e2e.discord.faults.failNext({ route: new RegExp(`^/channels/(?!${channel.id}/)\\d+/messages`), status: 403, code: 50007, times: 10_000 });
      });
      await logged;
    } finally {
      channel.botDeny = 0n;
      e2e.discord.faults.clear();
    }
  }, 60_000);

  it('keeps an interaction token in the job row only while the card still uses it', async () => {
    const job = await tracker.submit('secret-delivered', e2e.discord.userId, { steps: 2 });
    jobs.push(job);
    await e2e.discord.waitFor(() => tracker.verdict(job).kind === 'delivered', { timeoutMs: 30_000, description: 'the job delivered' });
    await e2e.bot.waitForLine((line) => line.includes('"outcome":"succeeded"') && line.includes('secret-delivered'), 10_000, 'the audit line');
    const db = new Database(join(e2e.dataDir, 'comfycord.db'), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT params, state, delivery, interaction_token AS token FROM jobs').all() as { params: string; state: string; delivery: string; token: string | null }[];
      const tokens = Object.fromEntries(rows.map((r) => [(JSON.parse(r.params) as { prompt: string }).prompt, r.token === null ? 'none' : `${r.state}/${r.delivery}`]));
      // Delivered: gone. Moved to a channel message (the DM job, token expired): gone. Only the upload whose card
      // is still the interaction reply, with its results pending, may keep it.
      expect(tokens).toMatchObject({ 'secret-delivered': 'none', 'secret-dm': 'none' });
      for (const [label, token] of Object.entries(tokens)) if (token !== 'none') expect([label, token]).toEqual(['secret-upload', 'succeeded/pending']);
    } finally {
      db.close();
    }
  }, 60_000);

  it('left no secret and no oversized field in any log line', () => {
    const secrets = [e2e.discord.token, API_KEY, ...jobs.map((job) => job.token)];
    expect(jobs).toHaveLength(4);
    expect(e2e.bot.lines.length).toBeGreaterThan(20);
    const problems: string[] = [];
    e2e.bot.lines.forEach((line, i) => {
      for (const secret of secrets) if (line.includes(secret)) problems.push(`line ${i} holds a secret: ${line.slice(0, 300)}`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        if (line.length > MAX_FIELD) problems.push(`line ${i} (not JSON) is ${line.length} chars`);
        return;
      }
      for (const s of strings(parsed)) if (s.length > MAX_FIELD) problems.push(`line ${i} has a ${s.length}-char field: ${s.slice(0, 120)}…`);
      // Bytes logged as numbers are not strings, but they make the line huge.
      if (line.length > 8 * MAX_FIELD) problems.push(`line ${i} is ${line.length} chars: ${line.slice(0, 200)}…`);
    });
    expect(problems).toEqual([]);
    // The paths did log their errors, with what may be logged of them.
    const logged = e2e.bot.lines.join('\n');
    // (No line carries a webhook URL any more: the card's id comes from its first edit, not a GET that could fail
    // with the URL in its error. The logger's redaction of such URLs is tested in src/config/logger.test.ts.)
    expect(logged).toContain('bot may not write the card');
    expect(logged).toMatch(/"bytes":\d{6}/);
  });
});
