// A blocked pattern taken out of use (RE2 cannot run it, or it was slow again and again) refuses nobody; the
// server's owner hears of it by DM, once per pattern while the bot runs, and the log keeps a line for operators.
import type { DisabledPattern } from '../../policy/patterns.js';
import type { BotContext } from './context.js';

const reported = new Set<string>();

export function reportDisabledPattern(ctx: Pick<BotContext, 'client' | 'logger'>, guildId: string, disabled: DisabledPattern): void {
  const key = `${guildId}\n${disabled.pattern}`;
  if (reported.has(key)) return;
  reported.add(key);
  ctx.logger.warn({ guild: guildId, pattern: disabled.pattern, reason: disabled.reason }, 'blocked pattern taken out of use');
  const guild = ctx.client.guilds.cache.get(guildId);
  if (!guild) return;
  const content =
    `The blocked pattern \`${disabled.pattern}\` of **${guild.name}** is no longer applied: ${disabled.reason}. ` +
    'Prompts are not refused because of it. Replace it with `/comfy config unblock` and `/comfy config block`.';
  ctx.client.users
    .send(guild.ownerId, { content, allowedMentions: { parse: [] } })
    .catch((error: unknown) => ctx.logger.warn({ guild: guildId, err: error }, 'could not tell the server owner about a disabled pattern'));
}
