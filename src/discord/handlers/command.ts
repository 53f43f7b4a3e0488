// A slash command from a command file: acknowledge at once (defer), read the options, check and re-encode image
// attachments, then submit. Everything after the defer may take as long as it needs.
import type { Attachment, ChatInputCommandInteraction } from 'discord.js';
import { inspectImageInput } from '../../media/input.js';
import { formatBytes } from '../../media/format.js';
import type { ImageBytes } from '../../jobs/spec.js';
import type { CommandDefinition } from '../../templates/definition.js';
import type { BotContext } from '../wiring/context.js';
import { refuse, submitJob } from './submit.js';

/** What an image option accepts before it is even downloaded, and after decoding. */
export const IMAGE_INPUT_LIMITS = { maxBytes: 25 * 1024 * 1024, maxPixels: 16 * 1024 * 1024 } as const;

export class ImageInputError extends Error {
  override readonly name = 'ImageInputError';
}

/** Downloads one attachment (size checked first) and returns its checked, re-encoded PNG bytes. */
export async function imageFromUrl(option: string, url: string, declaredSize: number | null, filename: string): Promise<ImageBytes> {
  if (declaredSize !== null && declaredSize > IMAGE_INPUT_LIMITS.maxBytes) {
    throw new ImageInputError(`${option}: the image is ${formatBytes(declaredSize)}; the limit is ${formatBytes(IMAGE_INPUT_LIMITS.maxBytes)}`);
  }
  let bytes: Buffer;
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    bytes = Buffer.from(await response.arrayBuffer());
  } catch (error) {
    throw new ImageInputError(`${option}: the attachment could not be downloaded (${error instanceof Error ? error.message : String(error)})`);
  }
  const checked = await inspectImageInput(bytes, IMAGE_INPUT_LIMITS);
  if (!checked.ok) throw new ImageInputError(`${option}: ${checked.reason}`);
  return { filename: `${filename.replace(/\.[^.]*$/, '').replace(/[^\w.-]/g, '_').slice(0, 60) || 'input'}.png`, bytes: checked.bytes };
}

export async function handleTemplateCommand(ctx: BotContext, interaction: ChatInputCommandInteraction, definition: CommandDefinition): Promise<void> {
  await interaction.deferReply();
  const values: Record<string, unknown> = {};
  const attachments: [string, Attachment][] = [];
  for (const option of interaction.options.data) {
    if (option.attachment) {
      attachments.push([option.name, option.attachment]);
      values[option.name] = option.attachment.name;
    } else if (option.value !== undefined) values[option.name] = option.value;
  }
  const images: Record<string, ImageBytes> = {};
  try {
    for (const [name, attachment] of attachments) {
      images[name] = await imageFromUrl(name, attachment.url, attachment.size, attachment.name);
    }
  } catch (error) {
    if (!(error instanceof ImageInputError)) throw error;
    await refuse(interaction, definition.name, error.message);
    return;
  }
  await submitJob(ctx, interaction, { definition, values, images, parent: null });
}
