import { afterEach, beforeEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import {
  DiscordAPIError,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Message,
  type ModalSubmitInteraction,
  type TextChannel,
} from 'discord.js';
import { CardEditor } from './cardEditor.js';
import type { CardPayload } from './cardRenderer.js';
import { ChannelPacer } from './channelPacer.js';
import { DiscordCardTransport, existingMessage, type CardChannel, type CardMessage, type ReplyHandle } from './interactionTransport.js';

const payload: CardPayload = { embeds: [{ title: 't' }], components: [], attachments: [] };

function fakes(createdTimestamp = Date.now()) {
  const replies: unknown[] = [];
  const messageEdits: unknown[] = [];
  const sends: unknown[] = [];
  const interaction: ReplyHandle & { fail?: unknown } = {
    createdTimestamp,
    editReply: async (options) => {
      replies.push(options);
      if (interaction.fail) throw interaction.fail;
      return { id: 'reply1' };
    },
  };
  const message: CardMessage = { id: 'm1', url: 'https://discord.com/channels/g/c/m1', edit: async (options) => messageEdits.push(options) };
  const channel: CardChannel = {
    send: async (options) => {
      sends.push(options);
      return message;
    },
  };
  return { replies, messageEdits, sends, interaction, channel };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('DiscordCardTransport', () => {
  it('fits the discord.js objects the wiring passes in', () => {
    expectTypeOf<ChatInputCommandInteraction>().toExtend<ReplyHandle>();
    expectTypeOf<ButtonInteraction>().toExtend<ReplyHandle>();
    expectTypeOf<ModalSubmitInteraction>().toExtend<ReplyHandle>();
    expectTypeOf<Message>().toExtend<CardMessage>();
    expectTypeOf<TextChannel>().toExtend<CardChannel>();
  });

  it('edits the interaction reply until it posts, then edits its own message', async () => {
    const f = fakes();
    const moved: unknown[] = [];
    const transport = new DiscordCardTransport({
      interaction: f.interaction,
      channel: async () => f.channel,
      channelId: 'c1',
      ephemeral: false,
      onMoved: (location) => moved.push(location),
    });
    expect(transport.expiresAt).toBe(f.interaction.createdTimestamp + 15 * 60_000);
    await transport.edit(payload);
    expect(f.replies).toEqual([payload]);

    await transport.post(payload);
    expect(f.sends).toEqual([{ embeds: payload.embeds, components: [] }]);
    expect(moved).toEqual([{ channelId: 'c1', messageId: 'm1' }]);
    expect(transport.expiresAt).toBeNull();
    // the old reply now points at the new card instead of looking alive
    expect(f.replies.at(-1)).toMatchObject({ content: 'Continued here: https://discord.com/channels/g/c/m1', components: [] });

    await transport.edit(payload);
    expect(f.messageEdits).toEqual([payload]);
    expect(f.replies).toHaveLength(2);
  });

  it("learns the reply's message id from Discord's answer to the first edit that went through, once", async () => {
    const f = fakes();
    const ids: string[] = [];
    const transport = new DiscordCardTransport({ interaction: f.interaction, channel: async () => f.channel, channelId: 'c1', ephemeral: false, onReplyId: (id) => ids.push(id) });
    f.interaction.fail = new DiscordAPIError({ code: 0, message: 'Internal Server Error' }, 0, 500, 'PATCH', '/webhooks', {});
    await expect(transport.edit(payload)).rejects.toThrow(DiscordAPIError);
    expect(ids).toEqual([]);
    f.interaction.fail = undefined;
    await transport.edit(payload);
    await transport.edit(payload);
    expect(ids).toEqual(['reply1']);
  });

  it('stops using a token Discord refused, even for the courtesy edit', async () => {
    const f = fakes();
    f.interaction.fail = new DiscordAPIError({ code: 50027, message: 'Invalid Webhook Token' }, 50027, 401, 'PATCH', '/webhooks', {});
    let dead = 0;
    const transport = new DiscordCardTransport({ interaction: f.interaction, channel: async () => f.channel, channelId: 'c1', ephemeral: false, onTokenDead: () => (dead += 1) });
    await expect(transport.edit(payload)).rejects.toThrow(DiscordAPIError);
    await expect(transport.edit(payload)).rejects.toThrow(/can no longer edit/);
    await transport.post(payload);
    expect(f.replies).toHaveLength(1);
    // Told once, so the job row can forget the token.
    expect(dead).toBe(1);
  });

  it('cannot post for ephemeral replies or without a channel', async () => {
    const f = fakes();
    expect(new DiscordCardTransport({ interaction: f.interaction, channel: async () => f.channel, channelId: 'c1', ephemeral: true }).canPost).toBe(false);
    const noChannel = new DiscordCardTransport({ interaction: f.interaction, channel: async () => null, channelId: null, ephemeral: false });
    expect(noChannel.canPost).toBe(false);
    await expect(noChannel.post(payload)).rejects.toThrow(/channel \(none\) is not available/);
  });

  it('resumes on a card message after a restart', async () => {
    const edits: unknown[] = [];
    const channel = { messages: { edit: async (id: string, options: unknown) => edits.push([id, options]) } };
    const message = existingMessage(channel, 'c1', 'm9', 'g1');
    expect(message.url).toBe('https://discord.com/channels/g1/c1/m9');
    const transport = new DiscordCardTransport({ message, channel: async () => null, channelId: 'c1', ephemeral: false });
    expect(transport.expiresAt).toBeNull();
    await transport.edit(payload);
    expect(edits).toEqual([['m9', payload]]);
  });

  it('needs an interaction or a message', () => {
    expect(() => new DiscordCardTransport({ channel: async () => null, channelId: null, ephemeral: false })).toThrow(/needs the interaction/);
  });

  it('lets the editor move a card to the channel at 13 minutes', async () => {
    const f = fakes();
    const transport = new DiscordCardTransport({ interaction: f.interaction, channel: async () => f.channel, channelId: 'c1', ephemeral: false });
    const editor = new CardEditor({ transport, pacer: new ChannelPacer() });
    const view = { jobId: 'j', ownerId: 'o', command: 'c', params: {}, state: { kind: 'queued' as const, position: 1, of: 1 } };
    editor.update(view);
    await vi.advanceTimersByTimeAsync(13 * 60_000);
    const outcome = editor.finish({ ...view, state: { kind: 'failed', message: 'boom' } });
    await vi.advanceTimersByTimeAsync(2000);
    await expect(outcome).resolves.toEqual({ delivered: true, via: 'post' });
    expect(f.sends).toHaveLength(1);
    expect(f.replies).toHaveLength(2);
  });
});
