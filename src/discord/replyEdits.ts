// Card edits of an interaction reply without discord.js's message layer. discord.js's `editReply` builds a
// MessagePayload (resolving every option) and turns Discord's answer into a Message with its mentions, embeds and
// components; a card edit reads nothing of that answer but the message id. A text-only edit (most of them: every
// progress tick) is therefore sent as its JSON body straight through discord.js's REST manager, which keeps the
// rate limits, retries and errors (DiscordAPIError) of every other request. Edits with files still go through
// `editReply`, whose multipart encoding is the REST manager's too.
import { Routes, type REST, type RESTPatchAPIWebhookWithTokenMessageJSONBody } from 'discord.js';
import type { CardPayload } from './cardRenderer.js';
import type { ReplyHandle } from './interactionTransport.js';

/** What is used of the interaction whose deferred reply is the card. */
export interface DeferredReply extends ReplyHandle {
  applicationId: string;
  token: string;
}

/** The webhook-message body discord.js would send for a card payload without files. */
export function cardEditBody(payload: CardPayload): RESTPatchAPIWebhookWithTokenMessageJSONBody {
  const body: RESTPatchAPIWebhookWithTokenMessageJSONBody = { embeds: payload.embeds, components: payload.components };
  if (payload.content !== undefined) body.content = payload.content;
  if (payload.attachments !== undefined) body.attachments = payload.attachments;
  if (payload.allowedMentions !== undefined) body.allowed_mentions = { users: payload.allowedMentions.users, parse: payload.allowedMentions.parse };
  return body;
}

/** The reply as a ReplyHandle whose text-only edits skip discord.js's message layer. */
export function directReplyEdits(rest: Pick<REST, 'patch'>, interaction: DeferredReply): ReplyHandle {
  const route = Routes.webhookMessage(interaction.applicationId, interaction.token, '@original');
  return {
    createdTimestamp: interaction.createdTimestamp,
    async editReply(payload) {
      if (payload.files?.length) return interaction.editReply(payload);
      // The interaction token authorises the webhook route; the bot token must not be sent with it.
      const answer = (await rest.patch(route, { body: cardEditBody(payload), auth: false })) as { id: string };
      return { id: answer.id };
    },
  };
}
