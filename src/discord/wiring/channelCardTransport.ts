// A card the bot edits with its own token on a channel message: after a restart the interaction is gone (and its
// token may have expired), so a recovered job's card lives on the message the store recorded, or on a new one.
import type { CardPayload } from '../cardRenderer.js';
import type { CardTransport } from '../cardEditor.js';
import type { CardChannel, CardLocation, CardMessage } from '../interactionTransport.js';

export interface ChannelCardTransportOptions {
  channelId: string;
  /** The card message the store recorded; null when the card was never posted (or its id never learned). */
  messageId: string | null;
  guildId: string | null;
  /** Resolves the channel, or null when the bot cannot use it any more. */
  channel: () => Promise<(CardChannel & { messages: { edit(id: string, options: object): Promise<unknown> } }) | null>;
  onMoved?: (location: CardLocation) => void;
}

export class ChannelCardTransport implements CardTransport {
  readonly expiresAt = null;
  readonly canPost = true;
  private message: CardMessage | null;

  constructor(private readonly options: ChannelCardTransportOptions) {
    const { messageId, channelId, guildId } = options;
    this.message =
      messageId === null
        ? null
        : {
            id: messageId,
            url: `https://discord.com/channels/${guildId ?? '@me'}/${channelId}/${messageId}`,
            edit: async (payload) => (await this.requireChannel()).messages.edit(messageId, payload),
          };
  }

  get location(): CardLocation {
    return { channelId: this.options.channelId, messageId: this.message?.id ?? null };
  }

  /** Edits the recorded message; a card that was never posted is posted now. */
  async edit(payload: CardPayload): Promise<void> {
    if (this.message) await this.message.edit(payload);
    else await this.post(payload);
  }

  async post(payload: CardPayload): Promise<void> {
    const { attachments: _replaced, ...create } = payload;
    this.message = await (await this.requireChannel()).send(create);
    this.options.onMoved?.(this.location);
  }

  private async requireChannel() {
    const channel = await this.options.channel();
    if (!channel) throw new Error(`channel ${this.options.channelId} is not available to show the card in`);
    return channel;
  }
}
