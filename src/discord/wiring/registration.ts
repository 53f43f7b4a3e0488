// Slash-command registration: built from the command files and the built-ins, compared with what Discord has,
// and written only when they differ (Discord allows 200 command creates a day). In DISCORD_GUILD_ID when set
// (instant), else globally.
import { Routes, type REST } from 'discord.js';
import type { Logger } from '../../config/logger.js';
import type { CommandDefinition } from '../../templates/definition.js';
import { commandInputFrom } from '../commandInput.js';
import { buildCommandPayloads, commandDifferences, type CommandLike, type CommandPayload } from '../commandPayloads.js';
import { comfyCommandGroup } from '../serverCommands/payloads.js';
import { comfyConfigGroup, settingsCommandPayload } from '../settings/payloads.js';

export interface RegistrationTarget {
  rest: REST;
  applicationId: string;
  guildId?: string | undefined;
}

/** Every command to register; broken command files are left out and logged, one line each. */
export function desiredCommands(commands: Iterable<CommandDefinition>, backendNames: readonly string[], logger: Logger): CommandPayload[] {
  const inputs = [...commands].filter((c) => c.name !== 'settings').map(commandInputFrom);
  const { payloads, problems } = buildCommandPayloads(inputs, { backendNames });
  for (const problem of problems) logger.error({ command: problem.command }, `command not registered: ${problem.message}`);
  for (const shadowed of [...commands].filter((c) => c.name === 'settings')) {
    logger.error({ command: shadowed.name, file: shadowed.file }, 'command not registered: "settings" is a built-in command; rename it');
  }
  // `/comfy config …` belongs to the settings room; it lives under the admin-only /comfy.
  // `/comfy command …` (servers' own commands) lives there too.
  const withConfig = payloads.map((payload) =>
    payload.name === 'comfy' ? { ...payload, options: [...(payload.options ?? []), comfyConfigGroup(), comfyCommandGroup()] } : payload,
  );
  return [...withConfig, settingsCommandPayload()];
}

/** Registers `desired` unless Discord already has exactly these; returns the differences found (empty: none). */
export async function syncCommands(target: RegistrationTarget, desired: CommandPayload[], logger: Logger): Promise<string[]> {
  const route = target.guildId ? Routes.applicationGuildCommands(target.applicationId, target.guildId) : Routes.applicationCommands(target.applicationId);
  const scope = target.guildId ? `guild ${target.guildId}` : 'globally';
  const existing = (await target.rest.get(route)) as CommandLike[];
  const differences = commandDifferences(desired, existing);
  if (differences.length === 0) {
    logger.info({ commands: desired.length, scope }, 'slash commands are up to date');
    return [];
  }
  await target.rest.put(route, { body: desired });
  logger.info({ commands: desired.length, scope, differences }, 'slash commands registered');
  return differences;
}
