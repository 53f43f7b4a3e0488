// custom_ids carry everything a button or modal needs to find its job again, so they keep working after a
// restart without in-memory collectors. Discord caps a custom_id at 100 characters.
//   job:<jobId>:cancel | delete | files             the card's own buttons (files: a grid's originals)
//   job:<jobId>:pick:<n>                            a grid's U<n>: image n on a message of its own
//   job:<jobId>:<action>[:<n>]                      a follow-up action of the job's command (n: which output)
//   jobmodal:<jobId>:<action>[:<n>]                 that action's remix modal
// Cards made before actions were declarative used `reroll`, `edit` and `upscale:<n>`: the same layout, so they
// run the shipped actions of those names.
import { ACTION_NAME_PATTERN } from '../templates/file-schema.js';

const BUILT_IN = ['cancel', 'delete', 'files'] as const;
/** Names the card's own buttons take; no action may use them. */
export const RESERVED_ACTION_NAMES: readonly string[] = [...BUILT_IN, 'pick'];
export type BuiltInAction = (typeof BUILT_IN)[number];

/** What a component on a job card asks for. */
export type JobComponentId =
  | { kind: 'button'; jobId: string; action: BuiltInAction }
  | { kind: 'button'; jobId: string; action: 'pick'; index: number }
  /** A follow-up action by name; `index` (1-based) names the output for per-output actions. */
  | { kind: 'button'; jobId: string; action: 'run'; name: string; index?: number }
  /** A follow-up action's remix modal being submitted. */
  | { kind: 'modal'; jobId: string; name: string; index?: number };

export const CUSTOM_ID_MAX = 100;
const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_INDEX = 99;

export class CustomIdError extends Error {
  override readonly name = 'CustomIdError';
}

function isBuiltIn(value: string): value is BuiltInAction {
  return (BUILT_IN as readonly string[]).includes(value);
}

function actionPart(name: string, index: number | undefined): string {
  if (!ACTION_NAME_PATTERN.test(name) || RESERVED_ACTION_NAMES.includes(name)) throw new CustomIdError(`action name ${JSON.stringify(name)} cannot go into a custom_id`);
  if (index === undefined) return name;
  if (!Number.isInteger(index) || index < 1 || index > MAX_INDEX) {
    throw new CustomIdError(`${name} index ${index} is not an integer from 1 to ${MAX_INDEX}`);
  }
  return `${name}:${index}`;
}

export function encodeCustomId(id: JobComponentId): string {
  if (!JOB_ID_PATTERN.test(id.jobId)) {
    throw new CustomIdError(`job id ${JSON.stringify(id.jobId)} cannot go into a custom_id (1-64 of A-Z a-z 0-9 _ -)`);
  }
  if (id.kind === 'modal') return `jobmodal:${id.jobId}:${actionPart(id.name, id.index)}`;
  if (id.action === 'pick') {
    if (!Number.isInteger(id.index) || id.index < 1 || id.index > MAX_INDEX) throw new CustomIdError(`pick index ${id.index} is not an integer from 1 to ${MAX_INDEX}`);
    return `job:${id.jobId}:pick:${id.index}`;
  }
  if (id.action !== 'run') return `job:${id.jobId}:${id.action}`;
  return `job:${id.jobId}:${actionPart(id.name, id.index)}`;
}

/** Reads a custom_id; anything that is not exactly one of ours yields `null` (old formats, other bots, tampering). */
export function decodeCustomId(customId: unknown): JobComponentId | null {
  if (typeof customId !== 'string' || customId.length === 0 || customId.length > CUSTOM_ID_MAX) return null;
  const [prefix, jobId, action, index, ...rest] = customId.split(':');
  if (rest.length > 0 || jobId === undefined || action === undefined || !JOB_ID_PATTERN.test(jobId)) return null;
  if (prefix !== 'job' && prefix !== 'jobmodal') return null;
  if (isBuiltIn(action)) return prefix === 'job' && index === undefined ? { kind: 'button', jobId, action } : null;
  if (!ACTION_NAME_PATTERN.test(action)) return null;
  if (index !== undefined && !/^[1-9]\d?$/.test(index)) return null;
  if (action === 'pick') return prefix === 'job' && index !== undefined ? { kind: 'button', jobId, action, index: Number(index) } : null;
  const which = index === undefined ? {} : { index: Number(index) };
  return prefix === 'job' ? { kind: 'button', jobId, action: 'run', name: action, ...which } : { kind: 'modal', jobId, name: action, ...which };
}
