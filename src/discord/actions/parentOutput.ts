// The parent's output image a per-output action works on: downloaded again from the ComfyUI server the parent
// ran on (full quality), else the copy attached to the card the button is on (possibly re-encoded to fit the
// upload limit). It is a deferred image source: nothing is fetched until the submission has passed its cheap
// checks, and then it is checked and normalised like an attachment a member uploads.
import type { Attachment, Collection } from 'discord.js';
import type { JobRow, OutputRef } from '../../jobs/store-types.js';
import { sniffMime } from '../../media/sniff.js';
import { IMAGE_INPUT_LIMITS, ImageInputError, download, type ImageSource } from '../imageInputs.js';
import type { BotContext } from '../wiring/context.js';

const IMAGE_FILE = /\.(png|jpe?g|webp)$/i;
const IMAGE_ATTACHMENT = /^image\/(png|jpeg|webp)/;

/** The parent's image outputs in delivery order: output n of a per-output button is the n-th. */
export function imageOutputs(row: JobRow): OutputRef[] {
  return (row.outputs ?? []).filter((ref) => IMAGE_FILE.test(ref.filename));
}

export function parentOutputSource(
  ctx: Pick<BotContext, 'backends' | 'logger' | 'imageInputs'>,
  row: JobRow,
  index: number,
  option: string,
  cardAttachments: Collection<string, Attachment> | null,
): Extract<ImageSource, { kind: 'deferred' }> {
  return { kind: 'deferred', name: `${row.id.slice(0, 24)}_${index}.png`, load: loadParentOutput };

  async function loadParentOutput(): Promise<Buffer> {
    const log = ctx.logger.child({ job: row.id, output: index });
    const ref = imageOutputs(row)[index - 1];
    const backend = ctx.backends.find((candidate) => candidate.name === row.backend);
    if (ref && backend?.client) {
      try {
        const { bytes } = await backend.client.http.view(ref);
        if (sniffMime(bytes)?.startsWith('image/')) return bytes;
        log.warn('the output ComfyUI returned is not an image; trying the card copy');
      } catch (error) {
        log.info({ err: error, backend: backend.name }, 'output no longer on ComfyUI; trying the card copy');
      }
    }
    // The card's attachments stand for the outputs one to one only when there are as many (not on a grid card,
    // nor on a message of one image of a batch), or when they are a grid followed by the originals (a guild with
    // the originals setting on).
    const copies = [...(cardAttachments?.values() ?? [])].filter((a) => IMAGE_ATTACHMENT.test(a.contentType ?? ''));
    const count = imageOutputs(row).length;
    const originals = copies.length === count ? copies : count > 1 && copies.length === count + 1 ? copies.slice(1) : [];
    const attached = originals[index - 1];
    if (attached) {
      try {
        return await download(option, attached.url, attached.size, IMAGE_INPUT_LIMITS, ctx.imageInputs.origins);
      } catch (error) {
        if (!(error instanceof ImageInputError)) throw error;
        log.info({ reason: error.message }, 'the card copy of the output could not be used either');
      }
    }
    throw new ImageInputError(`image ${index} of that job is no longer available (ComfyUI no longer has it and the card has no usable copy)`);
  }
}
