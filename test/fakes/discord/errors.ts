/** Discord's JSON error codes the fake returns, with the messages Discord uses for them. */
export const ERROR_MESSAGES = {
  0: 'General error',
  10002: 'Unknown Application',
  10003: 'Unknown Channel',
  10004: 'Unknown Guild',
  10008: 'Unknown Message',
  10013: 'Unknown User',
  10015: 'Unknown Webhook',
  10062: 'Unknown interaction',
  20028: 'This channel has hit the write rate limit',
  30015: 'Maximum number of attachments in a message reached (10)',
  30046: 'Maximum number of edits to messages older than 1 hour reached. Try again later',
  40005: 'Request entity too large',
  40060: 'Interaction has already been acknowledged.',
  40094: 'This interaction has hit the maximum number of follow up messages',
  50006: 'Cannot send an empty message',
  50007: 'Cannot send messages to this user',
  50013: 'Missing Permissions',
  50027: 'Invalid Webhook Token',
  50035: 'Invalid Form Body',
  50109: 'The request body contains invalid JSON.',
} as const;

export type DiscordErrorCode = keyof typeof ERROR_MESSAGES;

export interface FieldError {
  /** Path inside the request body, e.g. ['embeds', 0, 'title'] (Discord nests the errors object along it). */
  path: ReadonlyArray<string | number>;
  code: string;
  message: string;
}

/** A response the handlers throw to stop processing; the router turns it into the HTTP answer. */
export class DiscordHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(`${status} ${String(body['message'])}`);
  }
}

export function apiError(status: number, code: DiscordErrorCode, message: string = ERROR_MESSAGES[code]): DiscordHttpError {
  return new DiscordHttpError(status, { message, code });
}

/** HTTP-level errors without a Discord code (Discord answers these with code 0 and "<status>: <reason>"). */
export function httpError(status: number, reason: string): DiscordHttpError {
  return new DiscordHttpError(status, { message: `${status}: ${reason}`, code: 0 });
}

/** 400 50035 with Discord's nested `errors` object, which discord.js flattens into its error message. */
export function formError(errors: readonly FieldError[]): DiscordHttpError {
  const root: Record<string, unknown> = {};
  for (const error of errors) {
    let node = root;
    for (const key of error.path) {
      const next = (node[String(key)] ??= {}) as Record<string, unknown>;
      node = next;
    }
    const list = (node['_errors'] ??= []) as Array<{ code: string; message: string }>;
    list.push({ code: error.code, message: error.message });
  }
  return new DiscordHttpError(400, { message: ERROR_MESSAGES[50035], code: 50035, errors: root });
}
