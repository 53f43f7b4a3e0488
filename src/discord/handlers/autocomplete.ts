// Autocomplete: live lists (models, sampler names) from a backend that is up, filtered to what was typed. It
// cannot be deferred and must answer within 3 s, so a failure answers with no choices rather than nothing.
import type { AutocompleteInteraction } from 'discord.js';
import { choicesFor } from '../../templates/choices.js';
import { cachedServerInfo, type ServerInfo } from '../../templates/server-info.js';
import { autocompleteChoices } from '../autocomplete.js';
import { settingsAutocomplete } from '../settings/userSettings.js';
import { commandFor, commandsIn, type BotContext } from '../wiring/context.js';

/** How long a backend's lists are reused across keystrokes: short enough that a newly installed model shows soon. */
const LIST_TTL_MS = 30_000;
const lists = new WeakMap<BotContext['backends'][number], ServerInfo>();

function serverInfo(ctx: BotContext): ServerInfo {
  // Lists come from ComfyUI's own routes: v2 endpoints without a classic URL have none to offer.
  const listed = ctx.backends.filter((b) => b.client !== undefined);
  const backend = listed.find((b) => b.healthy) ?? listed[0];
  const client = backend?.client;
  if (!backend || !client) throw new Error('no backend with ComfyUI lists is configured');
  let info = lists.get(backend);
  if (!info) {
    info = cachedServerInfo(
      { objectInfo: (nodeClass) => client.http.objectInfoFor(nodeClass), models: (folder) => client.http.models(folder) },
      LIST_TTL_MS,
    );
    lists.set(backend, info);
  }
  return info;
}

async function choices(ctx: BotContext, interaction: AutocompleteInteraction): Promise<{ name: string; value: string }[]> {
  const focused = interaction.options.getFocused(true);
  const typed = String(focused.value);
  if (interaction.commandName === 'settings') {
    return settingsAutocomplete({ name: focused.name, value: typed }, interaction.options.getString('command'), commandsIn(ctx, interaction.guildId));
  }
  if (interaction.commandName === 'comfy') return autocompleteChoices(ctx.backends.map((b) => b.name), typed);
  const definition = commandFor(ctx, interaction.guildId, interaction.commandName);
  if (!definition) return [];
  return choicesFor(definition, focused.name, serverInfo(ctx), typed);
}

export async function handleAutocomplete(ctx: BotContext, interaction: AutocompleteInteraction): Promise<void> {
  let list: { name: string; value: string }[];
  try {
    list = await choices(ctx, interaction);
  } catch (error) {
    ctx.logger.warn({ command: interaction.commandName, err: error }, 'autocomplete failed; offering no choices');
    list = [];
  }
  await interaction.respond(list);
}
