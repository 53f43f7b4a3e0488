// COMFYCORD_ALLOWED_GUILDS: a private bot leaves every server that is not on the list, the ones it is in at
// start-up and any it is added to later, and says so in the log. Without the list the bot serves any server.
import type { Client, Guild } from 'discord.js';
import type { Logger } from '../../config/logger.js';

export function isAllowedGuild(allowed: readonly string[] | undefined, guildId: string | null): boolean {
  return allowed === undefined || guildId === null || allowed.includes(guildId);
}

/** Leaves the servers not allowed now and on every guildCreate; returns the function that stops watching. */
export function enforceAllowedGuilds(client: Client, allowed: readonly string[] | undefined, logger: Logger): () => void {
  if (allowed === undefined) return () => undefined;
  const leaveIfNotAllowed = (guild: Guild): void => {
    if (isAllowedGuild(allowed, guild.id)) return;
    guild.leave().then(
      () => logger.warn({ guild: guild.id, name: guild.name }, 'left a server that is not in COMFYCORD_ALLOWED_GUILDS'),
      (error: unknown) => logger.error({ err: error, guild: guild.id }, 'could not leave a server that is not in COMFYCORD_ALLOWED_GUILDS'),
    );
  };
  for (const guild of client.guilds.cache.values()) leaveIfNotAllowed(guild);
  client.on('guildCreate', leaveIfNotAllowed);
  return () => client.off('guildCreate', leaveIfNotAllowed);
}
