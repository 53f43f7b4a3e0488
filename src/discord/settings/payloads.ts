// Slash-command JSON for `/settings` (every member) and the `config` subcommand group that belongs under the
// admin-only `/comfy` command (commandPayloads.ts owns `/comfy`; it appends `comfyConfigGroup()` to its options).
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  ChannelType,
  InteractionContextType,
  type APIApplicationCommandBasicOption,
  type APIApplicationCommandSubcommandGroupOption,
  type APIApplicationCommandSubcommandOption,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';

const command = (required: boolean): APIApplicationCommandBasicOption => ({
  type: ApplicationCommandOptionType.String,
  name: 'command',
  description: 'The command, e.g. imagine',
  required,
  autocomplete: true,
});
const text = (name: string, description: string, required: boolean, maxLength = 2000): APIApplicationCommandBasicOption => ({
  type: ApplicationCommandOptionType.String,
  name,
  description,
  required,
  max_length: maxLength,
});
const role = (required: boolean): APIApplicationCommandBasicOption => ({
  type: ApplicationCommandOptionType.Role,
  name: 'role',
  description: 'The role',
  required,
});
const count = (name: string, description: string, min: number): APIApplicationCommandBasicOption => ({
  type: ApplicationCommandOptionType.Integer,
  name,
  description,
  required: false,
  min_value: min,
  max_value: 10_000,
});
const sub = (name: string, description: string, options: APIApplicationCommandBasicOption[] = []): APIApplicationCommandSubcommandOption => ({
  type: ApplicationCommandOptionType.Subcommand,
  name,
  description,
  options,
});

export function settingsCommandPayload(): RESTPostAPIChatInputApplicationCommandsJSONBody {
  return {
    name: 'settings',
    type: ApplicationCommandType.ChatInput,
    description: 'Your saved option values for each command, and your mode (fast or relax)',
    contexts: [InteractionContextType.Guild, InteractionContextType.BotDM],
    integration_types: [ApplicationIntegrationType.GuildInstall],
    options: [
      sub('show', 'Show your saved values', [command(false)]),
      sub('set', 'Save a value used whenever you leave that option out', [
        command(true),
        { type: ApplicationCommandOptionType.String, name: 'option', description: 'The option', required: true, autocomplete: true },
        text('value', 'The value to use', true),
      ]),
      sub('clear', 'Forget your saved values of a command (or of one option)', [
        command(true),
        { type: ApplicationCommandOptionType.String, name: 'option', description: 'Only this option', required: false, autocomplete: true },
      ]),
      sub('mode', 'Fast (counts in your GPU time) or relax (waits for fast jobs, saves your fast time)', [
        {
          type: ApplicationCommandOptionType.String,
          name: 'mode',
          description: 'fast or relax',
          required: true,
          choices: [
            { name: 'fast', value: 'fast' },
            { name: 'relax', value: 'relax' },
          ],
        },
      ]),
    ],
  };
}

/** Append to `/comfy`'s options; `/comfy` carries default_member_permissions Manage Server. */
export function comfyConfigGroup(): APIApplicationCommandSubcommandGroupOption {
  const channel: APIApplicationCommandBasicOption = {
    type: ApplicationCommandOptionType.Channel,
    name: 'channel',
    description: 'The channel',
    required: false,
    channel_types: [ChannelType.GuildText, ChannelType.GuildAnnouncement, ChannelType.GuildForum],
  };
  const blocked = (verb: string): APIApplicationCommandBasicOption[] => [
    text('word', `A whole word or phrase to ${verb}`, false, 100),
    text('pattern', `A regular expression to ${verb}`, false, 200),
  ];
  return {
    type: ApplicationCommandOptionType.SubcommandGroup,
    name: 'config',
    description: 'Server settings: where commands run, role limits, moderation',
    options: [
      sub('show', 'Show this server\'s settings'),
      sub('allow', 'Limit a command to a channel or role (adds to the list)', [command(true), channel, role(false)]),
      sub('disallow', 'Remove a channel or role from a command\'s list (neither: remove all limits)', [command(true), channel, role(false)]),
      sub('role-limits', 'Set the limits of a role\'s members', [
        role(true),
        count('running', 'Jobs running at once', 1),
        count('queued', 'Jobs waiting at once', 0),
        count('interval', 'Seconds between two jobs', 0),
        count('daily', 'Jobs per day (UTC)', 1),
        { type: ApplicationCommandOptionType.Boolean, name: 'reset', description: 'Remove this role\'s limits', required: false },
      ]),
      sub('moderator-add', 'Let a role cancel or delete anyone\'s job', [role(true)]),
      sub('moderator-remove', 'Remove a moderator role', [role(true)]),
      sub('spoiler', 'Post results as spoilers', [
        { type: ApplicationCommandOptionType.Boolean, name: 'on', description: 'On or off', required: true },
      ]),
      sub('originals', 'Attach a batch\'s original files under its grid (else: the Files button)', [
        { type: ApplicationCommandOptionType.Boolean, name: 'on', description: 'On or off', required: true },
      ]),
      sub('relax', 'Allow relax mode: slower jobs that do not use up fast GPU time', [
        { type: ApplicationCommandOptionType.Boolean, name: 'on', description: 'On or off', required: true },
      ]),
      sub('block', 'Refuse prompts with a word or pattern', blocked('block')),
      sub('unblock', 'Stop refusing a word or pattern', blocked('unblock')),
      sub('reply', 'What the bot answers to a refused prompt (empty: the standard text)', [text('text', 'The answer', false)]),
    ],
  };
}
