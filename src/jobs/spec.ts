// From a prepared command (templates) to the job the scheduler takes: the image bytes travel with their
// targets, because the upload and binding happen on the backend the job is dispatched to.
import type { CommandLimits } from '../templates/definition.js';
import type { PreparedJob } from '../templates/prepare.js';
import type { ImageContent, JobImage, JobOwner, JobSpec } from './job.js';

/** An image option's file: its bytes, or where it is saved. */
export type ImageFile = { filename: string } & ImageContent;

export function jobSpecFromPrepared(
  prepared: PreparedJob,
  owner: JobOwner,
  images: Readonly<Record<string, ImageFile>> = {},
  commandLimits?: CommandLimits,
): JobSpec {
  const jobImages: JobImage[] = prepared.images.map((input) => {
    const file = Object.hasOwn(images, input.option) ? images[input.option] : undefined;
    if (!file) throw new Error(`/${prepared.command}: image option "${input.option}" has no file`);
    const content: ImageContent = file.bytes ? { bytes: file.bytes } : { path: file.path };
    return { option: input.option, filename: file.filename, ...content, target: input.target };
  });
  return {
    owner,
    command: prepared.command,
    workflow: prepared.workflow,
    params: prepared.params,
    ...(prepared.choices.length > 0 ? { choices: prepared.choices } : {}),
    images: jobImages,
    outputs: prepared.outputs,
    ...(commandLimits ? { commandLimits } : {}),
  };
}
