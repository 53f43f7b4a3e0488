// Results spread over several messages: a command whose workflow makes 12 images (12 SaveImage nodes with
// their own prefixes: the fake ComfyUI saves one image per SaveImage whatever the batch size, and runs identical
// nodes once) posts 10 on the card and 2 in "Results 2 of 2"; a guild that asked for spoilers gets every file as SPOILER_;
// a bot killed between the first and the second message posts only the second one after its restart.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentRevision, MessageFlags, type StoredMessage } from '../fakes/discord/index.js';
import { botReady, cardIn, describeHistory, embedOf, REPO_ROOT, spawnBot, startE2E, stopBot, type E2E } from './harness.js';

const IMAGES = 12;
const COMMAND = `name: batch
description: Twelve small images at once
template: batch.json
options:
  - name: prompt
    type: string
    description: What to draw
    required: true
    target: Positive Prompt.text
  - name: steps
    type: integer
    description: Sampling steps
    min: 1
    max: 50
    default: 2
    target: KSampler.steps
`;

type Workflow = Record<string, { class_type: string; inputs: Record<string, unknown>; _meta?: { title: string } }>;

/** The shipped txt2img template at 64×64, its SaveImage made IMAGES of them (every node nothing consumes is delivered). */
function batchTemplate(): string {
  const workflow = JSON.parse(readFileSync(join(REPO_ROOT, 'templates', 'txt2img.json'), 'utf8')) as Workflow;
  const latent = Object.values(workflow).find((node) => node.class_type === 'EmptyLatentImage');
  const saveId = Object.keys(workflow).find((id) => workflow[id]!.class_type === 'SaveImage');
  if (!latent || saveId === undefined) throw new Error('templates/txt2img.json has no EmptyLatentImage or SaveImage node');
  Object.assign(latent.inputs, { width: 64, height: 64 });
  const save = workflow[saveId]!;
  delete workflow[saveId];
  for (let i = 1; i <= IMAGES; i++) workflow[`${900 + i}`] = { ...save, inputs: { ...save.inputs, filename_prefix: `batch${i}` }, _meta: { title: `Save ${i}` } };
  return JSON.stringify(workflow);
}

let e2e: E2E;
let dirs: string;
beforeAll(async () => {
  dirs = mkdtempSync(join(tmpdir(), 'comfycord-batch-'));
  mkdirSync(join(dirs, 'commands'));
  mkdirSync(join(dirs, 'templates'));
  writeFileSync(join(dirs, 'commands', 'batch.yml'), COMMAND);
  writeFileSync(join(dirs, 'templates', 'batch.json'), batchTemplate());
  e2e = await startE2E({ env: env() });
}, 60_000);
afterAll(async () => {
  await e2e?.close();
  if (dirs) rmSync(dirs, { recursive: true, force: true });
}, 30_000);

function env(): Record<string, string> {
  return { COMFYCORD_COMMANDS_DIR: join(dirs, 'commands'), COMFYCORD_TEMPLATES_DIR: join(dirs, 'templates') };
}

async function doneCard(token: string, timeoutMs = 20_000): Promise<StoredMessage> {
  return e2e.discord.waitFor((d) => cardIn(d, token, 'Done'), { timeoutMs, description: 'the Done card' }).catch((error: Error) => {
    const card = e2e.discord.originalFor(token);
    throw new Error(`${error.message}\n${card ? describeHistory(card) : '(no card)'}`);
  });
}

const names = (message: StoredMessage) => currentRevision(message).attachments.map((a) => a.filename);

/** Every message besides the card that carries files of the job whose files start with `prefix`. */
function resultMessages(card: StoredMessage, prefix: RegExp): StoredMessage[] {
  return e2e.discord.messages.filter((m) => m.id !== card.id && m.history.some((r) => r.attachments.some((a) => prefix.test(a.filename))));
}

/** `batch_<first 8 of the job id>_`, read from the card's first file. */
function filePrefix(card: StoredMessage): RegExp {
  const first = names(card)[0] ?? '';
  const short = /batch_([0-9A-Za-z-]{1,8})_\d+\./.exec(first)?.[1];
  if (!short) throw new Error(`the card carries no batch file (files: ${names(card).join(', ') || 'none'})`);
  return new RegExp(`^(SPOILER_)?batch_${short}_\\d+\\.`);
}

function expectAllTwelve(files: string[]): void {
  const numbers = files.map((name) => Number(/_(\d+)\.[a-z]+$/.exec(name)?.[1])).sort((a, b) => a - b);
  expect(numbers).toEqual(Array.from({ length: IMAGES }, (_, i) => i + 1));
}

describe('results over several messages', () => {
  it('posts 12 outputs as 10 on the card and 2 in a second message, nothing dropped', async () => {
    const { token } = await e2e.discord.slash('batch', { prompt: 'twelve cats' });
    const card = await doneCard(token);
    const extra = await e2e.discord.waitFor(() => (resultMessages(card, filePrefix(card)).length > 0 ? resultMessages(card, filePrefix(card)) : undefined), {
      description: 'the second message of results',
    });
    expect(names(card)).toHaveLength(10);
    expect(extra).toHaveLength(1);
    expect(currentRevision(extra[0]!).content).toMatch(/^Results 2 of 2 · job /);
    expect(names(extra[0]!)).toHaveLength(2);
    expectAllTwelve([...names(card), ...names(extra[0]!)]);
  }, 30_000);

  it('posts every file as a spoiler when the server asked for it', async () => {
    const config = await e2e.discord.slash('comfy config spoiler', { on: true }, { roles: ['Moderator'] });
    await e2e.discord.waitFor((d) => {
      const answer = d.originalFor(config.token);
      return answer && (currentRevision(answer).flags & MessageFlags.Ephemeral) !== 0 && currentRevision(answer).content.includes('spoilers');
    }, { description: 'the settings answer' });
    try {
      const { token } = await e2e.discord.slash('batch', { prompt: 'twelve secret cats' });
      const card = await doneCard(token);
      const extra = await e2e.discord.waitFor(() => resultMessages(card, filePrefix(card))[0], { description: 'the second message of results' });
      const files = [...names(card), ...names(extra)];
      expect(files.every((name) => name.startsWith('SPOILER_batch_'))).toBe(true);
      expectAllTwelve(files);
      expect(embedOf(currentRevision(card))?.image).toBeUndefined();
    } finally {
      await e2e.discord.slash('comfy config spoiler', { on: false }, { roles: ['Moderator'] });
    }
  }, 30_000);

  it('does not post the first message again when the bot dies before the second one', async () => {
    const channelPost = /^\/channels\/\d+\/messages$/;
    e2e.discord.faults.failNext({ method: 'POST', route: channelPost, status: 503, times: 10_000 });
    const { token } = await e2e.discord.slash('batch', { prompt: 'twelve cats, interrupted' });
    // The card landed with the first 10 files and the bot has moved on to the second message: kill it there.
    await e2e.discord.waitFor((d) => d.requests.some((r) => r.method === 'POST' && channelPost.test(r.path) && r.status === 503), {
      description: 'the second message to be attempted',
    });
    await e2e.bot.kill('SIGKILL');
    e2e.discord.faults.clear();
    const card = await doneCard(token);
    const revisions = card.history.length;
    expect(names(card)).toHaveLength(10);
    expect(resultMessages(card, filePrefix(card))).toEqual([]);

    e2e.bot = spawnBot(e2e, { dataDir: e2e.dataDir, env: env() });
    await botReady(e2e);
    const extra = await e2e.discord.waitFor(() => resultMessages(card, filePrefix(card))[0], { timeoutMs: 20_000, description: 'the second message after the restart' });
    // Its delivery is recorded as complete: a second life finds nothing left to deliver.
    await stopBot(e2e.bot);
    e2e.bot = spawnBot(e2e, { dataDir: e2e.dataDir, env: env() });
    await botReady(e2e);
    const recovered = await e2e.bot.waitForLine((line) => line.includes('jobs recovered from the store'));
    expect(JSON.parse(recovered)).toMatchObject({ undelivered: 0 });
    expect(resultMessages(card, filePrefix(card))).toHaveLength(1);
    expect(currentRevision(extra).content).toMatch(/^Results 2 of 2 · job /);
    expect(card.history.length).toBe(revisions);
    expectAllTwelve([...names(card), ...names(extra)]);
  }, 60_000);
});
