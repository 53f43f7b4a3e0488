// What a failed Discord request means for a job card. discord.js reports REST failures as DiscordAPIError (with
// Discord's JSON error code) or, for routes set to reject instead of wait, RateLimitError.
import { DiscordAPIError, RateLimitError } from 'discord.js';

const DISCORD_CODES = {
  unknownChannel: 10003,
  unknownMessage: 10008,
  unknownWebhook: 10015,
  tooOldToEdit: 30046,
  missingAccess: 50001,
  missingPermissions: 50013,
  invalidWebhookToken: 50027,
} as const;

export type CardFailure =
  /** Slow down: the request was not applied. */
  | { kind: 'rate-limited'; retryAfterMs: number }
  /** The interaction token no longer works (expired or revoked): continue on a channel message. */
  | { kind: 'token-invalid' }
  /** The card message is gone or may no longer be edited: post a new one. */
  | { kind: 'message-gone' }
  /** The bot may not write in that channel: stop and tell the owner another way. */
  | { kind: 'forbidden'; message: string }
  /** Anything else (5xx, network): worth a retry for a final state, a skipped frame otherwise. */
  | { kind: 'other'; message: string };

const DEFAULT_RETRY_AFTER_MS = 1000;

function retryAfterOf(error: DiscordAPIError): number {
  const raw = error.rawError as { retry_after?: unknown };
  return typeof raw.retry_after === 'number' && raw.retry_after >= 0 ? raw.retry_after * 1000 : DEFAULT_RETRY_AFTER_MS;
}

/** Discord's 10008: the message (a card someone deleted meanwhile) does not exist. */
export function isUnknownMessage(error: unknown): boolean {
  return error instanceof DiscordAPIError && error.code === DISCORD_CODES.unknownMessage;
}

export function classifyCardError(error: unknown): CardFailure {
  if (error instanceof RateLimitError) return { kind: 'rate-limited', retryAfterMs: Math.max(0, error.retryAfter) };
  if (error instanceof DiscordAPIError) {
    if (error.status === 429) return { kind: 'rate-limited', retryAfterMs: retryAfterOf(error) };
    switch (error.code) {
      case DISCORD_CODES.invalidWebhookToken:
      case DISCORD_CODES.unknownWebhook:
        return { kind: 'token-invalid' };
      case DISCORD_CODES.unknownMessage:
      case DISCORD_CODES.tooOldToEdit:
        return { kind: 'message-gone' };
      case DISCORD_CODES.missingAccess:
      case DISCORD_CODES.missingPermissions:
      case DISCORD_CODES.unknownChannel:
        return { kind: 'forbidden', message: `${error.message} (code ${error.code})` };
    }
    if (error.status === 401) return { kind: 'token-invalid' };
    return { kind: 'other', message: `${error.message} (code ${error.code}, HTTP ${error.status})` };
  }
  return { kind: 'other', message: error instanceof Error ? error.message : String(error) };
}
