// From a prepared command (templates) to the job the scheduler takes: the image bytes travel with their
// targets, because the upload and binding happen on the backend the job is dispatched to.
import type { CommandLimits } from '../templates/definition.js';
import type { PreparedJob } from '../templates/prepare.js';
import type { JobImage, JobOwner, JobSpec } from './job.js';

export interface ImageBytes {
  filename: string;
  bytes: Buffer;
}

export function jobSpecFromPrepared(
  prepared: PreparedJob,
  owner: JobOwner,
  images: Readonly<Record<string, ImageBytes>> = {},
  commandLimits?: CommandLimits,
): JobSpec {
  const jobImages: JobImage[] = prepared.images.map((input) => {
    const file = Object.hasOwn(images, input.option) ? images[input.option] : undefined;
    if (!file) throw new Error(`/${prepared.command}: image option "${input.option}" has no file`);
    return { option: input.option, filename: file.filename, bytes: file.bytes, target: input.target };
  });
  return {
    owner,
    command: prepared.command,
    workflow: prepared.workflow,
    params: prepared.params,
    images: jobImages,
    outputs: prepared.outputs,
    ...(commandLimits ? { commandLimits } : {}),
  };
}
