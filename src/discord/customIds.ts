// custom_ids carry everything a button or modal needs to find its job again, so they keep working after a
// restart without in-memory collectors. Discord caps a custom_id at 100 characters.

const JOB_ACTIONS = ['cancel', 'reroll', 'edit', 'delete', 'upscale'] as const;
export type JobAction = (typeof JOB_ACTIONS)[number];

/** What a component on a job card asks for. `upscale` names which output (1-based); the others never do. */
export type JobComponentId =
  | { kind: 'button'; jobId: string; action: Exclude<JobAction, 'upscale'> }
  | { kind: 'button'; jobId: string; action: 'upscale'; index: number }
  /** The "Edit" modal's submission. */
  | { kind: 'modal'; jobId: string; action: 'edit' };

export const CUSTOM_ID_MAX = 100;
const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_INDEX = 99;

export class CustomIdError extends Error {
  override readonly name = 'CustomIdError';
}

function isAction(value: string): value is JobAction {
  return (JOB_ACTIONS as readonly string[]).includes(value);
}

export function encodeCustomId(id: JobComponentId): string {
  if (!JOB_ID_PATTERN.test(id.jobId)) {
    throw new CustomIdError(`job id ${JSON.stringify(id.jobId)} cannot go into a custom_id (1-64 of A-Z a-z 0-9 _ -)`);
  }
  if (id.kind === 'modal') return `jobmodal:${id.jobId}:${id.action}`;
  if (id.action === 'upscale') {
    if (!Number.isInteger(id.index) || id.index < 1 || id.index > MAX_INDEX) {
      throw new CustomIdError(`upscale index ${id.index} is not an integer from 1 to ${MAX_INDEX}`);
    }
    return `job:${id.jobId}:upscale:${id.index}`;
  }
  return `job:${id.jobId}:${id.action}`;
}

/** Reads a custom_id; anything that is not exactly one of ours yields `null` (old formats, other bots, tampering). */
export function decodeCustomId(customId: unknown): JobComponentId | null {
  if (typeof customId !== 'string' || customId.length === 0 || customId.length > CUSTOM_ID_MAX) return null;
  const parts = customId.split(':');
  const [prefix, jobId, action, index, ...rest] = parts;
  if (rest.length > 0 || jobId === undefined || action === undefined || !JOB_ID_PATTERN.test(jobId)) return null;
  if (prefix === 'jobmodal') return action === 'edit' && index === undefined ? { kind: 'modal', jobId, action } : null;
  if (prefix !== 'job' || !isAction(action)) return null;
  if (action === 'upscale') {
    if (index === undefined || !/^[1-9]\d?$/.test(index)) return null;
    return { kind: 'button', jobId, action, index: Number(index) };
  }
  return index === undefined ? { kind: 'button', jobId, action } : null;
}
