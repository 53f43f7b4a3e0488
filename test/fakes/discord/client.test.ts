import {
  type ApplicationCommandDataResolvable,
  AttachmentBuilder,
  type Client,
  DiscordAPIError,
  GatewayIntentBits,
  MessageFlags as DjsMessageFlags,
  type TextChannel,
} from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentRevision, type FakeDiscord, MessageFlags, Permissions } from './index.js';
import { chatInputCommand, startDiscordBot, type DiscordBot } from './session.js';

/** PNG signature + filler: enough for discord.js's magic-byte sniffing to call it image/png. */
function png(fill: number, size = 64): Buffer {
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(size, fill)]);
}

const SIZE_LIMIT = 64 * 1024;

const COMMANDS: ApplicationCommandDataResolvable[] = [
  {
    name: 'imagine',
    description: 'Draw something',
    options: [
      { name: 'prompt', description: 'What to draw', type: 3, required: true, autocomplete: true },
      { name: 'steps', description: 'Sampling steps', type: 4 },
    ],
  },
  { name: 'ping', description: 'Ping' },
];

let bot: DiscordBot;
let discord: FakeDiscord;
let client: Client;
let lockedChannelId: string;

beforeAll(async () => {
  bot = await startDiscordBot({
    clock: 'manual',
    heartbeatIntervalMs: 500,
    attachmentSizeLimit: SIZE_LIMIT,
    guilds: [{ channels: [{ name: 'general' }, { name: 'locked', botDeny: Permissions.SendMessages }] }],
  });
  ({ discord, client } = bot);
  lockedChannelId = discord.guild().channels[1]!.id;
  await client.application!.commands.set(COMMANDS);
});

afterAll(() => bot?.close());

describe('fake Discord driven by an unmodified discord.js client', () => {
  it('logs in with the identify payload recorded and the guild cached', () => {
    const identify = discord.gateway.identifies[0]!;
    expect(identify['intents']).toBe(GatewayIntentBits.Guilds);
    expect(identify['compress']).toBe(false);
    expect(client.user?.id).toBe(discord.botUserId);
    expect(client.guilds.cache.get(discord.guildId)?.channels.cache.has(discord.channelId)).toBe(true);
    expect(discord.requests.find((r) => r.path === '/gateway/bot')).toMatchObject({ auth: 'bot', status: 200 });
  });

  it('bulk-overwrites global and guild commands and rejects invalid definitions with 50035', async () => {
    expect(discord.commands().registrations).toBe(1);
    expect(discord.commands().commands.map((c) => c['name'])).toEqual(['imagine', 'ping']);
    const firstId = discord.commands().commands[0]!['id'];
    await client.application!.commands.set([{ name: 'imagine', description: 'Again' }]);
    expect(discord.commands().commands[0]!['id']).toBe(firstId);
    await client.application!.commands.set([{ name: 'guildonly', description: 'Guild' }], discord.guildId);
    expect(discord.commands(discord.guildId).commands).toHaveLength(1);
    const fetched = await client.application!.commands.fetch({ guildId: discord.guildId });
    expect([...fetched.values()].map((c) => c.name)).toEqual(['guildonly']);

    const bad = client.application!.commands.set([{ name: 'Bad Name', description: 'x' }]);
    await expect(bad).rejects.toBeInstanceOf(DiscordAPIError);
    await expect(bad).rejects.toMatchObject({ code: 50035, status: 400 });
    await expect(bad).rejects.toThrow(/name/);
    // discord.js's types forbid this combination, so a bot could only send it by bypassing them; Discord refuses it.
    const autocompleteWithChoices = { name: 'o', description: 'o', type: 3, autocomplete: true, choices: [{ name: 'a', value: 'a' }] };
    const both = client.application!.commands.set([{ name: 'x', description: 'x', options: [autocompleteWithChoices as never] }]);
    await expect(both).rejects.toThrow(/Autocomplete cannot be set/);
    expect(discord.commands().commands.map((c) => c['name'])).toEqual(['imagine']);
    await client.application!.commands.set(COMMANDS);
  });

  it('defers, then edits with an embed pointing at an uploaded file', async () => {
    const handled = bot.nextInteraction(async (raw) => {
      const i = chatInputCommand(raw);
      await i.deferReply();
      const message = await i.editReply({
        embeds: [{ title: 'Step 1/20', image: { url: 'attachment://preview.png' } }],
        files: [new AttachmentBuilder(png(1), { name: 'preview.png' })],
      });
      return { prompt: i.options.getString('prompt'), steps: i.options.getInteger('steps'), sizeLimit: i.attachmentSizeLimit, message };
    });
    const { token } = await discord.slash('imagine', { prompt: 'a cat', steps: 20 });
    const { prompt, steps, sizeLimit, message } = await handled;
    expect({ prompt, steps, sizeLimit }).toEqual({ prompt: 'a cat', steps: 20, sizeLimit: SIZE_LIMIT });

    const stored = discord.originalFor(token)!;
    expect(stored.id).toBe(message.id);
    expect(stored.history[0]!.flags & MessageFlags.Loading).toBe(MessageFlags.Loading);
    const state = currentRevision(stored);
    expect(state.flags & MessageFlags.Loading).toBe(0);
    expect(state).toMatchObject({ via: 'webhook', token, embeds: [{ title: 'Step 1/20', image: { url: 'attachment://preview.png' } }] });
    expect(state.attachments).toHaveLength(1);
    expect(state.attachments[0]!.bytes.equals(png(1))).toBe(true);
    expect(message.embeds[0]!.image?.url).toBe(state.attachments[0]!.url);
    const download = await fetch(state.attachments[0]!.url);
    expect(Buffer.from(await download.arrayBuffer()).equals(png(1))).toBe(true);
    expect(download.headers.get('content-type')).toBe('image/png');
  });

  it("applies Discord's attachment rule on edits: replace, keep, keep-and-add, remove", async () => {
    const handled = bot.nextInteraction(async (raw) => {
      const i = chatInputCommand(raw);
      await i.reply({ content: 'v1', files: [new AttachmentBuilder(png(1), { name: 'preview.png' })] });
      await i.editReply({ files: [new AttachmentBuilder(png(2), { name: 'preview.png' })] });
      const kept = await i.editReply({ content: 'text only' });
      await i.editReply({ attachments: [kept.attachments.first()!], files: [new AttachmentBuilder(png(3), { name: 'final.png' })] });
      await i.editReply({ attachments: [] });
    });
    const { token } = await discord.slash('imagine', { prompt: 'dog' });
    await handled;
    const revisions = discord.originalFor(token)!.history.map((r) => r.attachments.map((a) => a.bytes[8]));
    expect(revisions).toEqual([[1], [2], [2], [2, 3], []]);
    const history = discord.originalFor(token)!.history;
    expect(history[2]!.attachments[0]!.id).toBe(history[1]!.attachments[0]!.id);
  });

  it('returns autocomplete choices to the test', async () => {
    const handled = bot.nextInteraction(async (i) => {
      if (!i.isAutocomplete()) throw new Error('expected autocomplete');
      const typed = i.options.getFocused();
      await i.respond([{ name: `${typed}t`, value: `${typed}t` }]);
    });
    const choices = await discord.autocomplete('imagine', { prompt: 'ca' }, 'prompt');
    await handled;
    expect(choices).toEqual([{ name: 'cat', value: 'cat' }]);
  });

  it('routes a button click to the message and records the update', async () => {
    const replied = bot.nextInteraction(async (raw) => {
      const response = await chatInputCommand(raw).reply({
        content: 'rendering',
        components: [{ type: 1, components: [{ type: 2, style: 4, label: 'Cancel', custom_id: 'job:1:cancel' }] }],
        withResponse: true,
      });
      return response.resource!.message!;
    });
    await discord.slash('ping');
    const card = await replied;
    const clicked = bot.nextInteraction(async (i) => {
      if (!i.isButton()) throw new Error('expected a button');
      await i.update({ content: 'cancelled', components: [] });
      return { customId: i.customId, messageId: i.message.id };
    });
    await discord.button(card.id, 'job:1:cancel');
    expect(await clicked).toEqual({ customId: 'job:1:cancel', messageId: card.id });
    expect(currentRevision(discord.message(card.id)!)).toMatchObject({ content: 'cancelled', components: [], via: 'callback' });
    await expect(discord.button(card.id, 'job:1:cancel')).rejects.toThrow(/has no component 'job:1:cancel'/);
  });

  it('delivers the values picked in a string select, checked against its options and counts', async () => {
    const select = { type: 3, custom_id: 'keep', min_values: 1, max_values: 2, options: ['a', 'b', 'c'].map((v) => ({ label: v, value: v })) };
    const replied = bot.nextInteraction(async (raw) => {
      const response = await chatInputCommand(raw).reply({ content: 'pick', components: [{ type: 1, components: [select] }], withResponse: true });
      return response.resource!.message!;
    });
    await discord.slash('ping');
    const message = await replied;
    await expect(discord.select(message.id, 'keep', ['z'])).rejects.toThrow(/offers no z/);
    await expect(discord.select(message.id, 'keep', [])).rejects.toThrow(/takes 1 to 2 values, got 0/);
    await expect(discord.select(message.id, 'keep', ['a', 'b', 'c'])).rejects.toThrow(/takes 1 to 2 values, got 3/);
    const picked = bot.nextInteraction(async (i) => {
      if (!i.isStringSelectMenu()) throw new Error('expected a string select');
      await i.update({ content: `kept ${i.values.join(',')}`, components: [] });
      return i.values;
    });
    await discord.select(message.id, 'keep', ['a', 'c']);
    expect(await picked).toEqual(['a', 'c']);
    expect(currentRevision(discord.message(message.id)!).content).toBe('kept a,c');
  });

  it('refuses a select that shares its row or offers no options (50035)', async () => {
    const replied = bot.nextInteraction(async (raw) =>
      chatInputCommand(raw)
        .reply({ content: 'x', components: [{ type: 1, components: [{ type: 3, custom_id: 's', options: [] }] }] })
        .then(() => 'sent', (error: Error) => error.message),
    );
    await discord.slash('ping');
    expect(await replied).toMatch(/Invalid Form Body/);
  });

  it('shows a modal and delivers its submitted fields', async () => {
    const shown = bot.nextInteraction(async (raw) => {
      await chatInputCommand(raw).showModal({
        custom_id: 'edit-prompt',
        title: 'Edit prompt',
        components: [{ type: 1, components: [{ type: 4, custom_id: 'prompt', label: 'Prompt', style: 1 }] }],
      });
    });
    await discord.slash('ping');
    await shown;
    await expect(discord.modalSubmit('edit-prompt', { nope: 'x' })).rejects.toThrow(/no field\(s\) nope/);
    const submitted = bot.nextInteraction(async (i) => {
      if (!i.isModalSubmit()) throw new Error('expected a modal submit');
      await i.reply({ content: `new prompt: ${i.fields.getTextInputValue('prompt')}`, flags: DjsMessageFlags.Ephemeral });
    });
    const { token } = await discord.modalSubmit('edit-prompt', { prompt: 'a red fox' });
    await submitted;
    const reply = currentRevision(discord.originalFor(token)!);
    expect(reply.content).toBe('new prompt: a red fox');
    expect(reply.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
  });

  it('sends followups through the interaction webhook', async () => {
    const handled = bot.nextInteraction(async (raw) => {
      const i = chatInputCommand(raw);
      await i.reply('first');
      return i.followUp({ content: 'second', flags: DjsMessageFlags.Ephemeral });
    });
    const { token } = await discord.slash('ping');
    const followup = await handled;
    const stored = discord.message(followup.id)!;
    expect(stored).toMatchObject({ kind: 'followup', interactionToken: token });
    expect(currentRevision(stored).flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    expect(discord.requests.some((r) => r.method === 'POST' && r.query['wait'] === 'true' && r.auth === 'none')).toBe(true);
  });

  it('posts, edits and deletes bot-auth channel messages, with 403 where the bot may not send', async () => {
    const channel = (await client.channels.fetch(discord.channelId)) as TextChannel;
    const sent = await channel.send({ content: 'fallback', files: [new AttachmentBuilder(png(7), { name: 'result.png' })] });
    await sent.edit('fallback edited');
    expect(discord.message(sent.id)!.history.map((r) => r.content)).toEqual(['fallback', 'fallback edited']);
    expect(currentRevision(discord.message(sent.id)!).attachments).toHaveLength(1);
    await sent.delete();
    expect(discord.message(sent.id)!.deleted).toBe(true);
    expect(discord.messagesInChannel(discord.channelId).some((m) => m.id === sent.id)).toBe(true);
    const locked = (await client.channels.fetch(lockedChannelId)) as TextChannel;
    await expect(locked.send('nope')).rejects.toMatchObject({ code: 50013, status: 403 });
  });

  it('opens a DM with a member and delivers there; a user with closed DMs gives 50007', async () => {
    const user = await client.users.fetch(discord.userId);
    const dm = await user.send('your image is ready');
    const channelId = discord.dmChannelFor(discord.userId)!;
    expect(dm.channelId).toBe(channelId);
    expect(discord.messagesInChannel(channelId).map((m) => [m.guildId, currentRevision(m).content])).toEqual([[undefined, 'your image is ready']]);
    await expect(client.users.fetch('123')).rejects.toMatchObject({ code: 10013 });
    discord.faults.failNext({ method: 'POST', route: `/channels/${channelId}/messages`, status: 403, code: 50007 });
    await expect(user.send('again')).rejects.toMatchObject({ code: 50007, status: 403 });
  });

  it("delivers a command invoked from the user's DM with the bot", async () => {
    const handled = bot.nextInteraction(async (raw) => {
      const i = chatInputCommand(raw);
      await i.reply({ content: 'hi in DM', files: [new AttachmentBuilder(png(5), { name: 'dm.png' })] });
      return { guildId: i.guildId, dmBased: i.channel?.isDMBased(), userId: i.user.id, member: i.member };
    });
    const { token } = await discord.slash('ping', {}, { dm: true });
    expect(await handled).toEqual({ guildId: null, dmBased: true, userId: discord.userId, member: null });
    const reply = discord.originalFor(token)!;
    expect(reply.channelId).toBe(discord.dmChannelFor(discord.userId));
    expect(reply.guildId).toBeUndefined();
    expect(currentRevision(reply).attachments).toHaveLength(1);
    await expect(discord.slash('guildonly', {}, { dm: true })).rejects.toThrow(/\/guildonly is not registered \(globally\)/);
  });

  it('retries an injected 429 (Retry-After) and the edit still lands', async () => {
    discord.faults.failNext({ method: 'PATCH', route: '/messages/@original', status: 429, retryAfter: 0.05 });
    const handled = bot.nextInteraction(async (raw) => {
      const i = chatInputCommand(raw);
      await i.deferReply();
      await i.editReply('after the 429');
    });
    const { token } = await discord.slash('ping');
    await handled;
    expect(currentRevision(discord.originalFor(token)!).content).toBe('after the 429');
    expect(discord.rateLimitHits['PATCH /webhooks/:app/:token/messages/:message']).toBe(1);
    const patches = discord.requests.filter((r) => r.method === 'PATCH' && r.path.includes(token)).map((r) => r.status);
    expect(patches).toEqual([429, 200]);
  });

  it('expires interaction tokens after 15 minutes (401 50027) without wiping the bot token', async () => {
    const handled = bot.nextInteraction(async (raw) => {
      const i = chatInputCommand(raw);
      await i.deferReply();
      discord.advance(15 * 60_000 + 1);
      const late = await i.editReply('too late').then(
        () => undefined,
        (error: unknown) => error,
      );
      const channel = i.channel as TextChannel;
      const fallback = await channel.send('fell back to the channel');
      return { late, fallback };
    });
    await discord.slash('ping');
    const { late, fallback } = await handled;
    expect(late).toBeInstanceOf(DiscordAPIError);
    expect(late).toMatchObject({ code: 50027, status: 401 });
    expect(discord.message(fallback.id)!.kind).toBe('channel');
  });

  it('rejects an acknowledgement after 3 seconds with 10062 and a second one with 40060', async () => {
    const late = bot.nextInteraction(async (raw) => {
      discord.advance(3001);
      await chatInputCommand(raw).deferReply();
    });
    await discord.slash('ping');
    await expect(late).rejects.toMatchObject({ code: 10062, status: 404 });

    const twice = bot.nextInteraction(async (raw) => {
      const i = chatInputCommand(raw);
      await i.deferReply();
      await client.rest.post(`/interactions/${i.id}/${i.token}/callback`, { body: { type: 5 }, auth: false });
    });
    await discord.slash('ping');
    await expect(twice).rejects.toMatchObject({ code: 40060, status: 400 });
  });

  it('refuses a file over the attachment size limit with 413 40005', async () => {
    const handled = bot.nextInteraction(async (raw) => {
      const i = chatInputCommand(raw);
      await i.deferReply();
      await i.editReply({ files: [new AttachmentBuilder(png(9, SIZE_LIMIT), { name: 'huge.png' })] });
    });
    const { token } = await discord.slash('ping');
    await expect(handled).rejects.toMatchObject({ code: 40005, status: 413 });
    expect(discord.requests.at(-1)).toMatchObject({ status: 413, files: [{ field: 'files[0]', name: 'huge.png', size: SIZE_LIMIT + 8 }] });
    expect(currentRevision(discord.originalFor(token)!).attachments).toHaveLength(0);
  });

  it('answers 10008 once the user deleted the message', async () => {
    const replied = bot.nextInteraction(async (raw) => {
      const i = chatInputCommand(raw);
      await i.reply('card');
      return i;
    });
    const { token } = await discord.slash('ping');
    const i = await replied;
    discord.faults.deleteMessage(discord.originalFor(token)!.id);
    await expect(i.editReply('update')).rejects.toMatchObject({ code: 10008, status: 404 });
  });

  it('resumes after a 4000 close; an interaction sent meanwhile waits for the resumed session', async () => {
    const resumesBefore = discord.gateway.resumes;
    discord.gateway.close(4000);
    const handled = bot.nextInteraction(async (raw) => {
      await chatInputCommand(raw).reply('still here');
    });
    const { token } = await discord.slash('ping');
    await handled;
    expect(discord.gateway.resumes).toBe(resumesBefore + 1);
    expect(currentRevision(discord.originalFor(token)!).content).toBe('still here');
    expect(discord.gateway.identifies).toHaveLength(1);
  });

  it('resumes after op 7 and after missed heartbeat acks', async () => {
    const before = discord.gateway.resumes;
    discord.gateway.reconnect();
    await discord.waitFor((d) => d.gateway.resumes === before + 1, { description: 'a resume after op 7' });
    discord.gateway.stopAcking();
    await discord.waitFor((d) => d.gateway.resumes === before + 2, { description: 'a resume after zombie detection' });
    expect(discord.gateway.identifies).toHaveLength(1);
  });
});
