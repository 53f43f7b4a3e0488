// The card editor and its discord.js transport against the fake Discord: an unmodified discord.js client, real
// HTTP, Discord-like rate-limit buckets. Timings are scaled down ten times (buckets and editor alike) so a whole
// run takes about a second; the proportions are the production ones.
import { Routes, type ChatInputCommandInteraction, type Client } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CardEditor, type CardEditorTiming, type FinishOutcome, type Unreachable } from '../../src/discord/cardEditor.js';
import type { CardView } from '../../src/discord/cardRenderer.js';
import { ChannelPacer } from '../../src/discord/channelPacer.js';
import { buildCommandPayloads, commandDifferences, type CommandLike } from '../../src/discord/commandPayloads.js';
import { DiscordCardTransport, type CardChannel } from '../../src/discord/interactionTransport.js';
import { currentRevision, Permissions, type FakeDiscord } from '../fakes/discord/index.js';
import { chatInputCommand, startDiscordBot, type DiscordBot } from '../fakes/discord/session.js';

const TIMING: Partial<CardEditorTiming> = { imageSpacingMs: 120, textSpacingMs: 100, queuedSpacingMs: 300, finalRetryDelayMs: 50 };
const pacerFor = () => new ChannelPacer({ maxEdits: 4, windowMs: 500 });

let bot: DiscordBot;
let discord: FakeDiscord;
let client: Client;
let lockedChannelId: string;

function onNextCommand<T>(fn: (i: ChatInputCommandInteraction) => Promise<T>): Promise<T> {
  return bot.nextInteraction((i) => fn(chatInputCommand(i)));
}

function transportFor(i: ChatInputCommandInteraction): DiscordCardTransport {
  return new DiscordCardTransport({
    interaction: i,
    channelId: i.channelId,
    ephemeral: false,
    channel: async () => {
      const channel = await client.channels.fetch(i.channelId);
      return channel?.isSendable() ? (channel as unknown as CardChannel) : null;
    },
  });
}

const preview = (n: number) => ({ bytes: Buffer.concat([Buffer.from('RIFF\0\0\0\0WEBPVP8 '), Buffer.alloc(64, n)]), mime: 'image/webp' as const });
const base = { jobId: 'job1', ownerId: '1', command: 'imagine', promptKey: 'prompt', params: { prompt: 'a cat', seed: 42 } };
const running = (step: number): CardView => ({ ...base, state: { kind: 'running', elapsedSeconds: step, step: { value: step, max: 60 }, preview: preview(step) } });
const done: CardView = { ...base, state: { kind: 'succeeded', summary: '1 image', notes: [] } };
const output = { name: 'imagine_job1_1.png', attachment: Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(64, 7)]) };
const delivered: CardView = { ...base, state: { kind: 'succeeded', summary: '1 image', notes: [], imageName: output.name } };

/** Feeds progress every 10 ms, as a sampler would, then finishes the card. */
function runJob(editor: CardEditor, steps: number): Promise<FinishOutcome> {
  return new Promise((resolve) => {
    let step = 0;
    const timer = setInterval(() => {
      step += 1;
      editor.update(running(step));
      if (step === steps) {
        clearInterval(timer);
        resolve(editor.finish(delivered, [output]));
      }
    }, 10);
  });
}

beforeAll(async () => {
  bot = await startDiscordBot({
    clock: 'manual',
    heartbeatIntervalMs: 500,
    rateLimits: { webhook: { limit: 5, windowMs: 200 }, channel: { limit: 5, windowMs: 500 } },
    guilds: [{ channels: [{ name: 'general' }, { name: 'locked', botDeny: Permissions.SendMessages }] }],
  });
  ({ discord, client } = bot);
  lockedChannelId = discord.guild().channels[1]!.id;
  await client.application!.commands.set([{ name: 'imagine', description: 'Draw', options: [] }], discord.guildId);
});

afterAll(() => bot?.close());

describe('card editor on discord.js against the fake Discord', () => {
  it('streams a run with coalesced edits, no 429, and lands the final state', async () => {
    // discord.js waits out an exhausted bucket by itself; the editor's pacing should mean it never has to.
    let bucketWaits = 0;
    const onRateLimited = () => {
      bucketWaits += 1;
    };
    client.rest.on('rateLimited', onRateLimited);
    const handled = onNextCommand(async (i) => {
      await i.deferReply();
      const editor = new CardEditor({ transport: transportFor(i), pacer: pacerFor(), timing: TIMING });
      return { outcome: await runJob(editor, 60), stats: editor.stats };
    });
    const { token } = await discord.slash('imagine');
    const { outcome, stats } = await handled;
    client.rest.off('rateLimited', onRateLimited);
    expect(outcome).toEqual({ delivered: true, via: 'edit' });
    expect(Object.values(discord.rateLimitHits).reduce((a, b) => a + b, 0)).toBe(0);
    expect(bucketWaits).toBe(0);
    expect(stats.coalesced).toBeGreaterThan(20);
    const card = discord.originalFor(token)!;
    const final = currentRevision(card);
    expect(final.embeds[0]).toMatchObject({ title: '/imagine · Done' });
    // the output replaced the preview, and the embed shows it
    expect(final.attachments.map((a) => a.filename)).toEqual([output.name]);
    expect(final.attachments[0]!.bytes.equals(output.attachment)).toBe(true);
    // every running revision showed exactly one preview, replaced each time
    const runningRevisions = card.history.filter((r) => r.embeds[0]?.title === '/imagine · Running');
    expect(runningRevisions.length).toBe(stats.edits - 1);
    for (const revision of runningRevisions) expect(revision.attachments.map((a) => a.filename)).toEqual(['preview.webp']);
  });

  it('drops the lost run\'s preview when the card goes back to the queue, then runs on without one', async () => {
    const queued: CardView = { ...base, state: { kind: 'queued', position: 1, of: 1 } };
    const rerunning: CardView = { ...base, state: { kind: 'running', elapsedSeconds: 0 } };
    const handled = onNextCommand(async (i) => {
      await i.deferReply();
      const editor = new CardEditor({ transport: transportFor(i), pacer: pacerFor(), timing: TIMING });
      editor.update(running(1));
      await discord.waitFor((d) => currentRevision(d.originalFor(i.token)!).attachments.length > 0, { description: 'the preview' });
      editor.update(queued);
      await discord.waitFor((d) => currentRevision(d.originalFor(i.token)!).embeds[0]?.title === '/imagine · Queued', { description: 'the queued card' });
      editor.update(rerunning);
      return editor.finish(delivered, [output]);
    });
    const { token } = await discord.slash('imagine');
    await handled;
    const shown = discord.originalFor(token)!.history.map((r) => [r.embeds[0]?.title ?? '', r.attachments.map((a) => a.filename).join(',')]);
    const afterRequeue = shown.slice(shown.findIndex(([title]) => title === '/imagine · Queued'));
    expect(shown.some(([title, files]) => title === '/imagine · Running' && files === 'preview.webp')).toBe(true);
    expect(afterRequeue[0]).toEqual(['/imagine · Queued', '']);
    for (const [title, files] of afterRequeue.filter(([title]) => title === '/imagine · Running')) expect([title, files]).toEqual(['/imagine · Running', '']);
    expect(afterRequeue.at(-1)).toEqual(['/imagine · Done', output.name]);
  });

  it('continues on a channel message when the token is refused (401 50027)', async () => {
    const handled = onNextCommand(async (i) => {
      await i.deferReply();
      const editor = new CardEditor({ transport: transportFor(i), pacer: pacerFor(), timing: TIMING });
      editor.update(running(1));
      discord.advance(16 * 60_000);
      return { outcome: await editor.finish(done), stats: editor.stats };
    });
    const { token } = await discord.slash('imagine');
    const { outcome, stats } = await handled;
    expect(outcome).toEqual({ delivered: true, via: 'post' });
    expect(stats.moves['token-invalid']).toBe(1);
    const posted = discord.messagesInChannel(discord.channelId).filter((m) => m.id !== discord.originalFor(token)?.id);
    expect(currentRevision(posted.at(-1)!)).toMatchObject({ via: 'channel', embeds: [{ title: '/imagine · Done' }] });
  });

  it('posts a new card when the old one was deleted (10008)', async () => {
    const handled = onNextCommand(async (i) => {
      await i.deferReply();
      const editor = new CardEditor({ transport: transportFor(i), pacer: pacerFor(), timing: TIMING });
      const reply = await i.fetchReply();
      discord.faults.deleteMessage(reply.id);
      return { outcome: await editor.finish(done), stats: editor.stats, deletedId: reply.id };
    });
    await discord.slash('imagine');
    const { outcome, stats, deletedId } = await handled;
    expect(outcome).toEqual({ delivered: true, via: 'post' });
    expect(stats.moves['message-gone']).toBe(1);
    const latest = discord.messagesInChannel(discord.channelId).at(-1)!;
    expect(latest.id).not.toBe(deletedId);
    expect(currentRevision(latest).embeds[0]).toMatchObject({ title: '/imagine · Done' });
  });

  it('tells the owner another way when the bot may not post in the channel (50013)', async () => {
    const unreachable: Unreachable[] = [];
    const handled = onNextCommand(async (i) => {
      await i.deferReply();
      const editor = new CardEditor({ transport: transportFor(i), pacer: pacerFor(), timing: TIMING, onUnreachable: (u) => unreachable.push(u) });
      discord.advance(16 * 60_000);
      return editor.finish(done);
    });
    await discord.slash('imagine', {}, { channelId: lockedChannelId });
    const outcome = await handled;
    expect(outcome.delivered).toBe(false);
    expect(unreachable).toEqual([expect.objectContaining({ reason: 'forbidden', view: done })]);
  });
});

describe('command registration against the fake Discord', () => {
  it('finds nothing to change right after registering, and a change after editing a command', async () => {
    const { payloads } = buildCommandPayloads(
      [{ name: 'draw', description: 'Draw', options: [{ name: 'prompt', type: 'string', required: true }, { name: 'size', type: 'choice', choices: ['s', 'm'] }] }],
      { backendNames: ['gpu'] },
    );
    await client.rest.put(Routes.applicationGuildCommands(discord.applicationId, discord.guildId), { body: payloads });
    const existing = (await client.rest.get(Routes.applicationGuildCommands(discord.applicationId, discord.guildId))) as CommandLike[];
    expect(commandDifferences(payloads, existing)).toEqual([]);
    const edited = payloads.map((p) => (p.name === 'draw' ? { ...p, description: 'Draw again' } : p));
    expect(commandDifferences(edited, existing)).toEqual(['/draw changed']);
  });
});
