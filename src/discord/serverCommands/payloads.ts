// `/comfy command add | list | remove | export`: the sub-command group a server's admins use to manage the
// server's own commands (the handler is in ./handlers.ts).
import { ApplicationCommandOptionType, type APIApplicationCommandSubcommandGroupOption } from 'discord.js';

export function comfyCommandGroup(): APIApplicationCommandSubcommandGroupOption {
  const name = { type: ApplicationCommandOptionType.String, name: 'name', description: 'The command name (lower case, 1-32 characters)', required: true, min_length: 1, max_length: 32 } as const;
  return {
    type: ApplicationCommandOptionType.SubcommandGroup,
    name: 'command',
    description: "This server's own commands, made from ComfyUI workflows",
    options: [
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: 'add',
        description: 'Add a command to this server from a workflow saved in ComfyUI (UI or API format)',
        options: [
          name,
          { type: ApplicationCommandOptionType.Attachment, name: 'workflow', description: 'The workflow file (.json)', required: true },
        ],
      },
      { type: ApplicationCommandOptionType.Subcommand, name: 'list', description: "This server's own commands", options: [] },
      { type: ApplicationCommandOptionType.Subcommand, name: 'remove', description: "Remove one of this server's own commands", options: [name] },
      { type: ApplicationCommandOptionType.Subcommand, name: 'export', description: 'The command file and template of one of them', options: [name] },
    ],
  };
}
