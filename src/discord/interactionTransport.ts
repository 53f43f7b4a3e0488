// The discord.js side of a job card: edit the interaction reply while its token is good, then continue on a
// message the bot posts in the channel with its own token (no 15-minute limit). The card editor decides when to
// move; this only knows how to edit and post.
import type { MessageCreateOptions, MessageEditOptions } from 'discord.js';
import type { CardPayload } from './cardRenderer.js';
import type { CardTransport } from './cardEditor.js';
import { classifyCardError } from './discordErrors.js';

export const INTERACTION_TOKEN_LIFETIME_MS = 15 * 60_000;

/** What is used of a repliable interaction (ChatInputCommandInteraction, ButtonInteraction, ModalSubmitInteraction). */
export interface ReplyHandle {
  createdTimestamp: number;
  /** True while the interaction is not answered yet: the next `editReply` answers it (due within 3 s). */
  readonly answering?: boolean;
  /** Resolves with the edited reply (its id is the card message's), or null when the edit answered the interaction. */
  editReply(options: CardPayload): Promise<{ id: string } | null>;
}

/** What is used of a posted message. */
export interface CardMessage {
  id: string;
  url: string;
  edit(options: MessageEditOptions): Promise<unknown>;
}

/** What is used of a text channel. */
export interface CardChannel {
  send(options: MessageCreateOptions): Promise<CardMessage>;
}

export interface CardLocation {
  channelId: string | null;
  /** Null while the card is the interaction reply. */
  messageId: string | null;
}

export interface DiscordCardTransportOptions {
  /** The interaction whose reply is the card (deferred, or answered by the first edit); absent when resuming on a channel message. */
  interaction?: ReplyHandle;
  /** The card is already a channel message (after a restart: rebuild it with `existingMessage`). */
  message?: CardMessage;
  /** Resolves the channel to post in; null when there is none the bot can use. */
  channel: () => Promise<CardChannel | null>;
  channelId: string | null;
  /** An ephemeral reply cannot be continued in the channel. */
  ephemeral: boolean;
  tokenLifetimeMs?: number;
  /** Told where the card now lives, so the job store can find it after a restart. */
  onMoved?: (location: CardLocation) => void;
  /** Told once when Discord refuses the interaction token: nothing will use it again, so it need not be kept. */
  onTokenDead?: () => void;
  /** Told the reply's message id once the first edit of it went through (Discord's answer carries it). */
  onReplyId?: (messageId: string) => void;
}

/** A card message known only by id (after a restart), edited without fetching it first. */
export function existingMessage(
  channel: { messages: { edit(id: string, options: MessageEditOptions): Promise<unknown> } },
  channelId: string,
  messageId: string,
  guildId: string | null,
): CardMessage {
  return {
    id: messageId,
    url: `https://discord.com/channels/${guildId ?? '@me'}/${channelId}/${messageId}`,
    edit: (options) => channel.messages.edit(messageId, options),
  };
}

export class DiscordCardTransport implements CardTransport {
  private message: CardMessage | null;
  private tokenDead = false;
  private replyIdKnown = false;
  private readonly options: DiscordCardTransportOptions;
  private readonly interaction: ReplyHandle | null;

  constructor(options: DiscordCardTransportOptions) {
    if (!options.interaction && !options.message) {
      throw new TypeError('a card transport needs the interaction whose reply is the card, or the card message');
    }
    this.options = options;
    this.interaction = options.interaction ?? null;
    this.message = options.message ?? null;
  }

  get expiresAt(): number | null {
    if (this.message || !this.interaction) return null;
    return this.interaction.createdTimestamp + (this.options.tokenLifetimeMs ?? INTERACTION_TOKEN_LIFETIME_MS);
  }

  get canPost(): boolean {
    return !this.options.ephemeral && this.options.channelId !== null;
  }

  get location(): CardLocation {
    return { channelId: this.options.channelId, messageId: this.message?.id ?? null };
  }

  get answering(): boolean {
    return this.message === null && !this.tokenDead && this.interaction?.answering === true;
  }

  async edit(payload: CardPayload): Promise<void> {
    if (this.message) {
      await this.message.edit(payload);
      return;
    }
    if (!this.interaction || this.tokenDead) throw new Error('the interaction token can no longer edit this card');
    try {
      const reply = await this.interaction.editReply(payload);
      if (reply && !this.replyIdKnown) {
        this.replyIdKnown = true;
        this.options.onReplyId?.(reply.id);
      }
    } catch (error) {
      // Every further use of a refused token counts towards Discord's invalid-request ban.
      if (classifyCardError(error).kind === 'token-invalid' && !this.tokenDead) {
        this.tokenDead = true;
        this.options.onTokenDead?.();
      }
      throw error;
    }
  }

  async post(payload: CardPayload): Promise<void> {
    const channel = await this.options.channel();
    if (!channel) throw new Error(`channel ${this.options.channelId ?? '(none)'} is not available to post the card in`);
    const { attachments: _replaced, ...create } = payload;
    const previousReply = this.message === null ? this.interaction : null;
    const posted = await channel.send(create);
    this.message = posted;
    this.options.onMoved?.(this.location);
    const expiresAt = previousReply ? previousReply.createdTimestamp + (this.options.tokenLifetimeMs ?? INTERACTION_TOKEN_LIFETIME_MS) : 0;
    if (previousReply && !this.tokenDead && Date.now() < expiresAt) {
      // Best effort: the old reply should not look like a live card with a Cancel button.
      await previousReply
        .editReply({ content: `Continued here: ${posted.url}`, embeds: [], components: [], attachments: [] })
        .catch(() => undefined);
    }
  }
}
