// Turning a user's values into a workflow. Values are set on a deep copy of the parsed template at resolved
// inputs, never spliced into JSON text, so no value can add, remove or rewire a node (only the command file's
// `bypass_if_missing` does, for an optional image left out).
import type { ApiWorkflow, AssetReference } from '../comfy/types.js';
import type { CommandDefinition, ImageOption, OptionDefinition, Scalar, Write } from './definition.js';
import { withBypassed } from './bypass.js';
import { OptionError } from './errors.js';
import type { PendingChoice } from './model-choice.js';
import { random64, randomInRange } from './random.js';
import type { ResolvedTarget } from './targets.js';
import { checkBoolean, checkChoice, checkInteger, checkNumber, checkString, integerForWorkflow } from './values.js';

/** An image option waiting for its upload: the caller's attachment reference travels untouched. */
export interface ImageInput<Ref = unknown> {
  option: string;
  target: ResolvedTarget;
  ref: Ref;
}

export interface PreparedJob {
  command: string;
  /** Every option bound except images (see bindImages). */
  workflow: ApiWorkflow;
  /** The value used for each visible, bound option (incl. drawn seeds): for display, and to re-run the job. */
  params: Record<string, Scalar>;
  images: ImageInput[];
  /** Model options left unset whose default is a preference: resolved on the backend the job is dispatched to. */
  choices: PendingChoice[];
  outputs: string[];
}

export interface PrepareOptions {
  /** Source of 64 random bits for `default: random` (tests pin it). */
  random?: () => bigint;
}

export function prepareJob(command: CommandDefinition, rawValues: Record<string, unknown>, options: PrepareOptions = {}): PreparedJob {
  const known = new Set(command.options.map((option) => option.name));
  for (const key of Object.keys(rawValues)) {
    if (!known.has(key)) throw new OptionError(key, `/${command.name} has no option "${key.slice(0, 40)}"`);
  }
  const bypasses = command.options.flatMap((option) =>
    option.type === 'image' && option.bypassIfMissing && !given(rawValues, option.name) ? [option.bypassIfMissing] : [],
  );
  const workflow = bypasses.length > 0 ? withBypassed(command.workflow, bypasses) : (structuredClone(command.workflow) as ApiWorkflow);
  const params: Record<string, Scalar> = Object.create(null) as Record<string, Scalar>;
  const images: ImageInput[] = [];
  const choices: PendingChoice[] = [];
  const random = options.random ?? random64;
  for (const option of command.options) {
    const supplied = given(rawValues, option.name);
    if (option.hidden && supplied) throw new OptionError(option.name, `${option.name} is fixed by the command and cannot be set`);
    if (option.type === 'image') {
      if (supplied) images.push({ option: option.name, target: option.target, ref: rawValues[option.name] });
      else if (option.required) throw new OptionError(option.name, `${option.name} is required: attach an image`);
      continue;
    }
    if (!supplied && option.required) throw new OptionError(option.name, `${option.name} is required`);
    const pending = supplied ? undefined : pendingChoice(option);
    if (pending) {
      // Neither bound nor recorded yet: the model depends on the backend; its name joins the params at dispatch.
      choices.push(pending);
      continue;
    }
    const resolved = supplied ? resolveValue(option, rawValues[option.name]) : defaultValue(option, random);
    if (resolved === undefined) {
      // A live-list choice left unset runs with the template's own value (its checkpoint, say): record it, so the
      // card lists what actually ran and a reroll keeps it even if the template changes later.
      const kept = option.hidden ? undefined : templateChoice(option, workflow);
      if (kept !== undefined) params[option.name] = kept;
      continue;
    }
    for (const write of resolved.writes) setInput(workflow, write);
    if (!option.hidden) params[option.name] = resolved.param;
  }
  return { command: command.name, workflow, params: { ...params }, images, choices, outputs: [...command.outputs] };
}

function pendingChoice(option: ValueOption): PendingChoice | undefined {
  if (option.type !== 'choice' || option.source.kind !== 'models' || typeof option.default !== 'object') return undefined;
  return { option: option.name, folder: option.source.folder, target: option.source.target, preference: option.default };
}

function given(rawValues: Record<string, unknown>, name: string): boolean {
  return Object.hasOwn(rawValues, name) && rawValues[name] !== undefined && rawValues[name] !== null;
}

function templateChoice(option: ValueOption, workflow: ApiWorkflow): string | undefined {
  if (option.type !== 'choice' || option.source.kind === 'fixed') return undefined;
  const value = workflow[option.source.target.nodeId]?.inputs[option.source.target.input];
  return typeof value === 'string' ? value : undefined;
}

interface Resolved {
  param: Scalar;
  writes: Write[];
}

type ValueOption = Exclude<OptionDefinition, ImageOption>;

function resolveValue(option: ValueOption, raw: unknown): Resolved {
  switch (option.type) {
    case 'string': {
      const value = checkString(option, raw);
      return { param: value, writes: [{ target: option.target, value }] };
    }
    case 'integer': {
      const value = integerForWorkflow(checkInteger(option, raw));
      return { param: value, writes: [{ target: option.target, value }] };
    }
    case 'number': {
      const value = checkNumber(option, raw);
      return { param: value, writes: [{ target: option.target, value }] };
    }
    case 'boolean': {
      const value = checkBoolean(option, raw);
      return { param: value, writes: [{ target: option.target, value }] };
    }
    case 'choice':
      return choiceWrites(option, checkChoice(option, raw));
  }
}

/**
 * Random values stay within JavaScript's safe integers even when the option allows more (ComfyUI seeds go to
 * 2^64-1): Discord's integer options cannot carry larger numbers, and a person must be able to type the seed
 * shown on a card back into the command to reproduce the image.
 */
export function randomCeiling(max: bigint): bigint {
  const safe = BigInt(Number.MAX_SAFE_INTEGER);
  return max < safe ? max : safe;
}

/** Defaults were validated at load time, so they are bound without re-checking (except drawing random ones). */
function defaultValue(option: ValueOption, random: () => bigint): Resolved | undefined {
  if (option.default === undefined) return undefined;
  if (option.type === 'integer') {
    const value = integerForWorkflow(option.default === 'random' ? randomInRange(option.min, randomCeiling(option.max), random) : option.default);
    return { param: value, writes: [{ target: option.target, value }] };
  }
  // A preference default never gets here (pendingChoice took it); the check narrows the type.
  if (option.type === 'choice') return typeof option.default === 'string' ? choiceWrites(option, option.default) : undefined;
  return { param: option.default, writes: [{ target: option.target, value: option.default }] };
}

function choiceWrites(option: Extract<OptionDefinition, { type: 'choice' }>, name: string): Resolved {
  if (option.source.kind !== 'fixed') return { param: name, writes: [{ target: option.source.target, value: name }] };
  const choice = option.source.choices.find((candidate) => candidate.name === name);
  if (!choice) throw new OptionError(option.name, `${option.name} must be one of the offered choices`);
  return { param: name, writes: choice.writes };
}

function setInput(workflow: ApiWorkflow, write: { target: Write['target']; value: Write['value'] | AssetReference }): void {
  const node = workflow[write.target.nodeId];
  if (!node) throw new Error(`target node ${write.target.nodeId} vanished from the workflow copy`);
  node.inputs[write.target.input] = write.value;
}

/**
 * The prepared workflow with each image input set to the name the backend's upload returned
 * (`subfolder/name` when the upload went to a subfolder), or to the asset reference of a v2 backend.
 */
export function bindImages(prepared: Pick<PreparedJob, 'command' | 'workflow' | 'images'>, uploaded: Record<string, string | AssetReference>): ApiWorkflow {
  const workflow = structuredClone(prepared.workflow);
  for (const image of prepared.images) {
    const name = Object.hasOwn(uploaded, image.option) ? uploaded[image.option] : undefined;
    if (name === undefined || name === '') {
      throw new Error(`bindImages: no uploaded file name for image option "${image.option}" of /${prepared.command}`);
    }
    setInput(workflow, { target: image.target, value: name });
  }
  return workflow;
}
