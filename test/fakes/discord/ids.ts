import { randomBytes } from 'node:crypto';

const DISCORD_EPOCH = 1_420_070_400_000n;

/** Makes Discord-shaped snowflakes: real timestamps in the high bits so discord.js derives sane createdAt dates. */
export class SnowflakeFactory {
  #increment = 0n;

  next(): string {
    this.#increment = (this.#increment + 1n) & 0xfffn;
    return (((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | (1n << 17n) | this.#increment).toString();
  }
}

/** URL-safe random text, used for interaction tokens and session ids. */
export function randomToken(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

/** A bot token shaped like Discord's: base64(user id) . timestamp part . hmac part. */
export function botTokenFor(userId: string): string {
  return `${Buffer.from(userId).toString('base64url')}.${randomToken(4)}.${randomToken(27)}`;
}
