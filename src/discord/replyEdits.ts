// Card edits of an interaction reply without discord.js's message layer. discord.js's `editReply` builds a
// MessagePayload (resolving every option) and turns Discord's answer into a Message with its mentions, embeds and
// components; a card edit reads nothing of that answer but the message id. Every edit is therefore sent as its body
// (and files) straight through discord.js's REST manager, which keeps the rate limits, retries and errors
// (DiscordAPIError) of every other request and encodes files as multipart the way `editReply` has it do.
// An interaction not answered yet (a slash command admitted at once) gets the card as its answer instead: the
// callback (type 4) with the first edit's body, which saves the defer and one PATCH per job.
import { InteractionResponseType, Routes, type REST, type RESTPatchAPIWebhookWithTokenMessageJSONBody } from 'discord.js';
import type { CardPayload } from './cardRenderer.js';
import type { ReplyHandle } from './interactionTransport.js';

/** What is used of the interaction whose reply is the card. */
export interface DeferredReply extends Pick<ReplyHandle, 'createdTimestamp'> {
  applicationId: string;
  token: string;
}

/** An interaction nobody has answered yet (discord.js's ChatInputCommandInteraction fits). */
export interface UnansweredInteraction {
  id: string;
  /** discord.js's flag: set once the callback went through, as its own `reply()` does, so `followUp` works. */
  replied: boolean;
}

/**
 * The webhook-message body discord.js would send for a card payload. Files are listed in `attachments` by their
 * index, the part of the multipart body each is sent in; a message's attachments not listed are removed.
 */
export function cardEditBody(payload: CardPayload): RESTPatchAPIWebhookWithTokenMessageJSONBody {
  const body: RESTPatchAPIWebhookWithTokenMessageJSONBody = { embeds: payload.embeds, components: payload.components };
  if (payload.content !== undefined) body.content = payload.content;
  const files = (payload.files ?? []).map((_, index) => ({ id: String(index) }));
  if (payload.attachments !== undefined || files.length > 0) body.attachments = [...(payload.attachments ?? []), ...files];
  if (payload.allowedMentions !== undefined) body.allowed_mentions = { users: payload.allowedMentions.users, parse: payload.allowedMentions.parse };
  return body;
}

/**
 * The reply as a ReplyHandle whose edits skip discord.js's message layer. With `unanswered`, the first edit is the
 * interaction's answer (the reply created with the card; Discord's answer names no message, so it resolves null),
 * and the later ones edit that reply.
 */
export function directReplyEdits(rest: Pick<REST, 'patch' | 'post'>, interaction: DeferredReply, unanswered?: UnansweredInteraction): ReplyHandle {
  const route = Routes.webhookMessage(interaction.applicationId, interaction.token, '@original');
  let open = unanswered !== undefined && !unanswered.replied;
  return {
    createdTimestamp: interaction.createdTimestamp,
    get answering() {
      return open;
    },
    async editReply(payload) {
      const files = (payload.files ?? []).map((file) => ({ name: file.name, data: file.attachment }));
      // The interaction token authorises the webhook and callback routes; the bot token must not be sent with them.
      const request = { auth: false, ...(files.length > 0 ? { files } : {}) };
      if (open && unanswered) {
        const body = { type: InteractionResponseType.ChannelMessageWithSource, data: cardEditBody(payload) };
        await rest.post(Routes.interactionCallback(unanswered.id, interaction.token), { body, ...request });
        open = false;
        unanswered.replied = true;
        return null;
      }
      const answer = (await rest.patch(route, { body: cardEditBody(payload), ...request })) as { id: string };
      return { id: answer.id };
    },
  };
}
