// A slash command from a command file: read the options and submit. Attachments go in as references: submitJob
// downloads them only after every cheap check has passed. The interaction is left unanswered: submitJob answers it
// with the card itself when admission is quick, else defers it first.
import type { ChatInputCommandInteraction } from 'discord.js';
import type { CommandDefinition } from '../../templates/definition.js';
import type { ImageSource } from '../imageInputs.js';
import type { BotContext } from '../wiring/context.js';
import { submitJob } from './submit.js';

export async function handleTemplateCommand(ctx: BotContext, interaction: ChatInputCommandInteraction, definition: CommandDefinition): Promise<void> {
  const values: Record<string, unknown> = {};
  const images: Record<string, ImageSource> = {};
  for (const option of interaction.options.data) {
    const { attachment } = option;
    if (attachment) {
      images[option.name] = { kind: 'attachment', url: attachment.url, size: attachment.size, name: attachment.name };
      values[option.name] = attachment.name;
    } else if (option.value !== undefined) values[option.name] = option.value;
  }
  await submitJob(ctx, interaction, { definition, values, images, parent: null });
}
