import { describe, expect, it } from 'vitest';
import { DiscordAPIError } from 'discord.js';
import type { CardPayload } from './cardRenderer.js';
import { cardEditBody, directReplyEdits, type DeferredReply } from './replyEdits.js';

const text: CardPayload = {
  content: '<@u1>',
  embeds: [{ title: 'Running' }],
  components: [{ type: 1, components: [{ type: 2, style: 4, custom_id: 'cancel:j1', label: 'Cancel' }] }],
  attachments: [],
  allowedMentions: { users: ['u1'], parse: [] },
};

function fakes() {
  const patches: { route: string; options: unknown }[] = [];
  const posts: { route: string; options: unknown }[] = [];
  let failure: unknown;
  const rest = {
    patch: async (route: string, options: unknown) => {
      patches.push({ route, options });
      if (failure) throw failure;
      return { id: 'm1', content: 'ignored', embeds: [] };
    },
    post: async (route: string, options: unknown) => {
      posts.push({ route, options });
      if (failure) throw failure;
      // the callback's 204: no body
      return new ArrayBuffer(0);
    },
  };
  const interaction: DeferredReply = {
    applicationId: 'app1',
    token: 'tok/en',
    createdTimestamp: 5,
  };
  return { rest: rest as never, patches, posts, interaction, fail: (error: unknown) => (failure = error), heal: () => (failure = undefined) };
}

describe('directReplyEdits', () => {
  it('sends a text-only edit as its JSON body on the webhook route, without the bot token, and answers its id', async () => {
    const f = fakes();
    const reply = directReplyEdits(f.rest, f.interaction);
    await expect(reply.editReply(text)).resolves.toEqual({ id: 'm1' });
    expect(f.patches).toEqual([
      {
        route: '/webhooks/app1/tok%2Fen/messages/%40original',
        options: {
          auth: false,
          body: {
            content: '<@u1>',
            embeds: text.embeds,
            components: text.components,
            attachments: [],
            allowed_mentions: { users: ['u1'], parse: [] },
          },
        },
      },
    ]);
    expect(reply.createdTimestamp).toBe(5);
  });

  it('leaves out what the payload does not set, as discord.js does', () => {
    expect(cardEditBody({ embeds: [], components: [] })).toEqual({ embeds: [], components: [] });
  });

  it('sends an edit with files as discord.js would: each file by reference, listed in attachments by its index', async () => {
    const f = fakes();
    const preview = Buffer.from('x');
    const grid = Buffer.from('y');
    const withFiles: CardPayload = { ...text, attachments: undefined, files: [{ name: 'preview.jpg', attachment: preview }, { name: 'grid.png', attachment: grid }] };
    await expect(directReplyEdits(f.rest, f.interaction).editReply(withFiles)).resolves.toEqual({ id: 'm1' });
    const options = f.patches[0]?.options as { auth: boolean; body: { attachments: unknown }; files: { name: string; data: Buffer }[] };
    expect(options.auth).toBe(false);
    expect(options.body.attachments).toEqual([{ id: '0' }, { id: '1' }]);
    expect(options.files.map((file) => file.name)).toEqual(['preview.jpg', 'grid.png']);
    // the very buffers: nothing is copied on the way
    expect(options.files[0]?.data).toBe(preview);
    expect(options.files[1]?.data).toBe(grid);
  });

  it("passes Discord's refusal on, so a dead token is recognised", async () => {
    const f = fakes();
    const refusal = new DiscordAPIError({ code: 50027, message: 'Invalid Webhook Token' }, 50027, 401, 'PATCH', '/webhooks', {});
    f.fail(refusal);
    await expect(directReplyEdits(f.rest, f.interaction).editReply(text)).rejects.toBe(refusal);
  });

  it('answers an unanswered interaction with the card itself (callback type 4), then edits that reply', async () => {
    const f = fakes();
    const unanswered = { id: 'i1', replied: false };
    const reply = directReplyEdits(f.rest, f.interaction, unanswered);
    expect(reply.answering).toBe(true);
    await expect(reply.editReply(text)).resolves.toBeNull();
    expect(f.posts).toEqual([{ route: '/interactions/i1/tok%2Fen/callback', options: { auth: false, body: { type: 4, data: cardEditBody(text) } } }]);
    expect(f.patches).toEqual([]);
    // discord.js's own flag, so its followUp() works on this interaction
    expect(unanswered.replied).toBe(true);
    expect(reply.answering).toBe(false);
    await expect(reply.editReply(text)).resolves.toEqual({ id: 'm1' });
    expect(f.posts).toHaveLength(1);
    expect(f.patches.map((p) => p.route)).toEqual(['/webhooks/app1/tok%2Fen/messages/%40original']);
  });

  it('still owes the answer after a refused callback, and needs none for an interaction already answered', async () => {
    const f = fakes();
    const unanswered = { id: 'i1', replied: false };
    const reply = directReplyEdits(f.rest, f.interaction, unanswered);
    f.fail(new DiscordAPIError({ code: 0, message: 'Service Unavailable' }, 0, 503, 'POST', '/interactions', {}));
    await expect(reply.editReply(text)).rejects.toThrow('Service Unavailable');
    expect(reply.answering).toBe(true);
    expect(unanswered.replied).toBe(false);
    f.heal();
    await expect(reply.editReply(text)).resolves.toBeNull();
    expect(f.posts).toHaveLength(2);

    const deferred = directReplyEdits(f.rest, f.interaction, { id: 'i2', replied: true });
    expect(deferred.answering).toBe(false);
    await expect(deferred.editReply(text)).resolves.toEqual({ id: 'm1' });
    expect(f.posts).toHaveLength(2);
  });
});
