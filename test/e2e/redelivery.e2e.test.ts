// Results planned for a boosted server's upload limit (50 MiB per file) stay planned for it: a delivery finished
// by the retry or after a restart posts each file once, in the batches the live card planned, and a card resumed
// after a restart does not re-encode files for Discord's default 10 MiB. The fake ComfyUI writes its PNGs
// uncompressed here, so an output of W×H pixels weighs about W×H×3 bytes.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentRevision, type StoredMessage } from '../fakes/discord/index.js';
import { botReady, cardIn, describeHistory, REPO_ROOT, spawnBot, startE2E, titleOf, type E2E } from './harness.js';

const MIB = 1024 * 1024;
const LIVE_LIMIT = 50 * MIB;
const OUTPUTS = 20;
/** 1560 × (1560 × 3 + 1) bytes of raw PNG rows: just under 7 MiB per file. */
const SEVEN_MIB_SIDE = 1560;
/** 2048² × 3: 12 MiB, over the default 10 MiB but well under the live limit. */
const TWELVE_MIB_SIDE = 2048;
const CHANNEL_POST = /^\/channels\/\d+\/messages$/;

type Workflow = Record<string, { class_type: string; inputs: Record<string, unknown>; _meta?: { title: string } }>;

function command(name: string, description: string): string {
  return `name: ${name}
description: ${description}
template: ${name}.json
options:
  - name: prompt
    type: string
    description: What to draw
    required: true
    target: Positive Prompt.text
`;
}

/** The shipped txt2img template at side×side, with `saves` SaveImage nodes of their own prefixes. */
function template(side: number, saves: number): string {
  const workflow = JSON.parse(readFileSync(join(REPO_ROOT, 'templates', 'txt2img.json'), 'utf8')) as Workflow;
  const latent = Object.values(workflow).find((node) => node.class_type === 'EmptyLatentImage');
  const saveId = Object.keys(workflow).find((id) => workflow[id]!.class_type === 'SaveImage');
  if (!latent || saveId === undefined) throw new Error('templates/txt2img.json has no EmptyLatentImage or SaveImage node');
  Object.assign(latent.inputs, { width: side, height: side });
  const save = workflow[saveId]!;
  delete workflow[saveId];
  for (let i = 1; i <= saves; i++) workflow[`${900 + i}`] = { ...save, inputs: { ...save.inputs, filename_prefix: `out${i}` }, _meta: { title: `Save ${i}` } };
  return JSON.stringify(workflow);
}

// Pending results are tried again after 1 s (30 s by default), so the retry test waits on the retry, not a clock.
const CONFIG = 'jobs:\n  deliveryRetrySeconds: 1\n';

let e2e: E2E;
let dirs: string;
beforeAll(async () => {
  dirs = mkdtempSync(join(tmpdir(), 'comfycord-redelivery-'));
  mkdirSync(join(dirs, 'commands'));
  mkdirSync(join(dirs, 'templates'));
  writeFileSync(join(dirs, 'commands', 'many.yml'), command('many', 'Twenty big images'));
  writeFileSync(join(dirs, 'templates', 'many.json'), template(SEVEN_MIB_SIDE, OUTPUTS));
  writeFileSync(join(dirs, 'commands', 'big.yml'), command('big', 'One image over 10 MiB'));
  writeFileSync(join(dirs, 'templates', 'big.json'), template(TWELVE_MIB_SIDE, 1));
  e2e = await startE2E({ discord: { attachmentSizeLimit: LIVE_LIMIT }, comfy: { pngCompressionLevel: 0 }, env: env(), configYaml: CONFIG });
}, 60_000);
afterAll(async () => {
  await e2e?.close();
  if (dirs) rmSync(dirs, { recursive: true, force: true });
}, 30_000);

function env(): Record<string, string> {
  return { COMFYCORD_COMMANDS_DIR: join(dirs, 'commands'), COMFYCORD_TEMPLATES_DIR: join(dirs, 'templates') };
}

async function restartBot(): Promise<void> {
  e2e.bot = spawnBot(e2e, { dataDir: e2e.dataDir, env: env(), configYaml: CONFIG });
  await botReady(e2e);
}

async function doneCard(token: string, timeoutMs = 30_000): Promise<StoredMessage> {
  return e2e.discord.waitFor((d) => cardIn(d, token, 'Done'), { timeoutMs, description: 'the Done card' }).catch((error: Error) => {
    const card = e2e.discord.originalFor(token);
    throw new Error(`${error.message}\n${card ? describeHistory(card) : '(no card)'}`);
  });
}

/** `many_<first 8 of the job id>_` from the card's first file. */
function jobPrefix(card: StoredMessage): string {
  const first = currentRevision(card).attachments[0]?.filename ?? '';
  const prefix = /^(many_[0-9a-f]{8}_)\d+\.png$/.exec(first)?.[1];
  if (!prefix) throw new Error(`the card carries no result file (first: ${first || 'none'})`);
  return prefix;
}

/** Every posting of the job's files: the card's final files, then each further message's, in order. */
function postings(card: StoredMessage, prefix: string): { content: string; files: string[] }[] {
  const further = e2e.discord.messages
    .filter((m) => m.id !== card.id && m.history.some((r) => r.attachments.some((a) => a.filename.startsWith(prefix))))
    .map((m) => ({ content: m.history[0]!.content, files: m.history.flatMap((r) => r.attachments.map((a) => a.filename)) }));
  return [{ content: '(card)', files: currentRevision(card).attachments.map((a) => a.filename) }, ...further];
}

/** Each of the 20 outputs exactly once, and how the messages were labelled. */
function expectEachFileOnce(card: StoredMessage, prefix: string): void {
  const posts = postings(card, prefix);
  const numbers = posts.flatMap((p) => p.files).map((name) => Number(name.slice(prefix.length).split('.')[0]));
  expect(numbers.sort((a, b) => a - b), JSON.stringify(posts)).toEqual(Array.from({ length: OUTPUTS }, (_, i) => i + 1));
  expect(posts.map((p) => [p.content.replace(/ · job .*/, ''), p.files.length])).toEqual([
    ['(card)', 7],
    ['Results 2 of 3', 7],
    ['Results 3 of 3', 6],
  ]);
}

/** Waits for the further messages to carry every output (or more), whatever their batches. */
function allPosted(card: StoredMessage, prefix: string, timeoutMs: number): Promise<unknown> {
  return e2e.discord.waitFor(() => new Set(postings(card, prefix).flatMap((p) => p.files)).size >= OUTPUTS, {
    timeoutMs,
    description: `all ${OUTPUTS} outputs to be posted`,
  });
}

describe('results planned for a 50 MiB upload limit', () => {
  it('posts each file once when the retry finishes a delivery whose third message failed', async () => {
    e2e.discord.faults.failNext({ method: 'POST', route: CHANNEL_POST, status: 503, skip: 1, times: Infinity });
    const { token } = await e2e.discord.slash('many', { prompt: 'twenty cats, the third message fails' });
    const card = await doneCard(token);
    const prefix = jobPrefix(card);
    await e2e.bot.waitForLine((line) => line.includes('could not post a batch of outputs'), 30_000, 'the third message to fail');
    e2e.discord.faults.clear();
    // The bot's retry of pending deliveries comes round (a second on, doubling while the fault lasts).
    await allPosted(card, prefix, 60_000);
    expectEachFileOnce(card, prefix);
  }, 120_000);

  it('posts each file once when a restart finishes a delivery whose third message failed', async () => {
    e2e.discord.faults.failNext({ method: 'POST', route: CHANNEL_POST, status: 503, skip: 1, times: Infinity });
    const { token } = await e2e.discord.slash('many', { prompt: 'twenty cats, the bot dies at the third message' });
    const card = await doneCard(token);
    const prefix = jobPrefix(card);
    await e2e.discord.waitFor((d) => d.requests.some((r) => r.method === 'POST' && CHANNEL_POST.test(r.path) && r.status === 503), {
      timeoutMs: 30_000,
      description: 'the third message to be attempted',
    });
    await e2e.bot.kill('SIGKILL');
    e2e.discord.faults.clear();
    await restartBot();
    // Recovery posts what is pending (or the retry of pending deliveries does).
    await allPosted(card, prefix, 60_000);
    expectEachFileOnce(card, prefix);
  }, 120_000);

  it('does not re-encode a 12 MiB output on a card resumed after a restart', async () => {
    e2e.comfy.hold();
    const started = new Promise<void>((resolve) => e2e.comfy.events.once('prompt-queued', () => resolve()));
    await e2e.discord.slash('big', { prompt: 'one big cat, the bot restarts meanwhile' });
    await started;
    await e2e.bot.kill('SIGKILL');
    await restartBot();
    e2e.comfy.release();
    // The original reply, or a channel message when the bot died before it had recorded the reply's id.
    const card = await e2e.discord.waitFor((d) => d.messages.find((m) => !m.deleted && titleOf(currentRevision(m)) === '/big · Done'), {
      timeoutMs: 30_000,
      description: 'the resumed card to be Done',
    });
    const files = currentRevision(card).attachments;
    expect(files.map((f) => f.filename), describeHistory(card)).toEqual([expect.stringMatching(/^big_[0-9a-f]{8}_1\.png$/)]);
    expect(files[0]!.size).toBeGreaterThan(12 * MIB);
  }, 90_000);
});
