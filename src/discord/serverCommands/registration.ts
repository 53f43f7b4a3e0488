// Registers a server's own commands in that server only (Discord's guild commands). When the bot's commands are
// themselves registered in that guild (DISCORD_GUILD_ID, for development), both lists go in the one PUT.
import type { CommandDefinition } from '../../templates/definition.js';
import { commandInputFrom } from '../commandInput.js';
import { commandPayload, CommandPayloadError, type CommandPayload } from '../commandPayloads.js';
import type { BotContext } from '../wiring/context.js';
import { desiredCommands, syncCommands } from '../wiring/registration.js';

/** The server's own commands as payloads; those a global command hides are left out and logged. */
export function serverPayloads(ctx: Pick<BotContext, 'registry' | 'guildCommands' | 'logger'>, guildId: string): CommandPayload[] {
  const payloads: CommandPayload[] = [];
  for (const definition of ctx.guildCommands.commandsOf(guildId)) {
    if (ctx.registry.commands.has(definition.name)) {
      ctx.logger.warn({ guild: guildId, command: definition.name }, "server command not registered: the bot's global command of that name wins");
      continue;
    }
    const payload = payloadOf(ctx, guildId, definition);
    if (payload) payloads.push(payload);
  }
  return payloads;
}

function payloadOf(ctx: Pick<BotContext, 'logger'>, guildId: string, definition: CommandDefinition): CommandPayload | undefined {
  try {
    return { ...commandPayload(commandInputFrom(definition)), contexts: [0] };
  } catch (error) {
    if (!(error instanceof CommandPayloadError)) throw error;
    ctx.logger.error({ guild: guildId, command: definition.name }, `server command not registered: ${error.message}`);
    return undefined;
  }
}

/** Everything the bot registers in this guild. */
export function guildPayloads(ctx: BotContext, guildId: string): CommandPayload[] {
  const own = serverPayloads(ctx, guildId);
  if (ctx.config.discord.guildId !== guildId) return own;
  return [...desiredCommands(ctx.registry.commands.values(), ctx.backends.map((b) => b.name), ctx.logger), ...own];
}

export async function syncGuildCommands(ctx: BotContext, guildId: string): Promise<void> {
  await syncCommands({ rest: ctx.client.rest, applicationId: ctx.client.application!.id, guildId }, guildPayloads(ctx, guildId), ctx.logger);
}
