// `/help`: the commands from the command files (and the built-ins), in one embed within Discord's limits.
import type { APIEmbed, APIEmbedField } from 'discord.js';
import { fitEmbed, truncate } from './embedLimits.js';

export interface HelpCommand {
  name: string;
  description: string;
  options: readonly { name: string; description: string; required: boolean }[];
}

const BUILT_IN: readonly string[] = [
  '`/queue` your jobs and the queue',
  '`/cancel` cancel all your jobs',
  '`/info` your GPU time, fast time left and jobs',
  '`/help` this list',
];

function field(command: HelpCommand): APIEmbedField {
  const options = command.options.map((o) => (o.required ? `\`${o.name}\`` : `\`[${o.name}]\``)).join(' ');
  return { name: `/${command.name}`, value: [truncate(command.description, 300), options].filter(Boolean).join('\n') };
}

export function renderHelp(commands: readonly HelpCommand[], options: { isAdmin: boolean }): { embeds: APIEmbed[] } {
  const builtIns = options.isAdmin ? [...BUILT_IN, "`/comfy pause|resume|drain` hold, restart or drain this server's jobs; `/comfy status` shows the backends"] : BUILT_IN;
  const sorted = [...commands].sort((a, b) => a.name.localeCompare(b.name));
  const intro = sorted.length === 0 ? 'No image commands are set up yet.' : 'Options in [brackets] are optional. Every result has Reroll, Edit and Delete buttons.';
  return {
    embeds: [fitEmbed({ title: 'Commands', description: `${intro}\n\n${builtIns.join('\n')}`, fields: sorted.map(field) })],
  };
}
