// Turning a command file plus its template into a CommandDefinition, collecting every problem with the option it
// concerns rather than stopping at the first, so one run of `comfycord check` lists everything to fix.
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import type { ApiWorkflow } from '../comfy/types.js';
import type {
  ChoiceOption,
  CommandDefinition,
  FixedChoice,
  IntegerOption,
  NumberOption,
  OptionDefinition,
  Scalar,
  StringOption,
} from './definition.js';
import { optionTargets } from './definition.js';
import { resolveBypass } from './bypass.js';
import { DefinitionError, type Problem } from './errors.js';
import { commandFileSchema, type CommandFile, type FileScalar, type ModelPreferenceFile, type OptionFile } from './file-schema.js';
import type { ModelPreference } from './model-choice.js';
import { resolveNode, resolveTarget, type ResolvedTarget } from './targets.js';
import { onStep } from './values.js';
import { deepFreeze, isRecord, sinkNodes } from './workflow.js';

const DEFAULT_MAX_LENGTH = 2000;
/** Discord allows at most 25 options per command and 25 fixed choices per option. */
const MAX_OPTIONS = 25;
export const MAX_CHOICES = 25;
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

export type Parsed<T> = { ok: true; value: T } | { ok: false; problems: Problem[] };

/** Parses and shape-checks a command file's YAML text. */
export function parseCommandFile(file: string, text: string): Parsed<CommandFile> {
  let raw: unknown;
  try {
    raw = normaliseIntegers(parseYaml(text, { intAsBigInt: true }));
  } catch (error) {
    return { ok: false, problems: [{ file, message: `not valid YAML: ${(error as Error).message}` }] };
  }
  const result = commandFileSchema.safeParse(raw);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, problems: result.error.issues.map((issue) => issueToProblem(file, raw, issue)) };
}

/** YAML integers are read as bigint so seeds keep their digits; the small ones become plain numbers again. */
function normaliseIntegers(value: unknown): unknown {
  if (typeof value === 'bigint') return value <= SAFE_MAX && value >= -SAFE_MAX ? Number(value) : value;
  if (Array.isArray(value)) return value.map(normaliseIntegers);
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      Object.defineProperty(out, key, { value: normaliseIntegers(inner), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

function issueToProblem(file: string, raw: unknown, issue: z.core.$ZodIssue): Problem {
  const path = issue.path;
  let option: string | undefined;
  let rest = path;
  if (path[0] === 'options' && typeof path[1] === 'number' && isRecord(raw) && Array.isArray(raw.options)) {
    const entry: unknown = raw.options[path[1]];
    option = isRecord(entry) && typeof entry.name === 'string' ? entry.name : `#${path[1] + 1}`;
    rest = path.slice(2);
  }
  const where = rest.length > 0 ? `${rest.join('.')}: ` : '';
  return option === undefined ? { file, message: where + issue.message } : { file, option, message: where + issue.message };
}

/** Binds a shape-checked command file to its workflow; either a definition or every problem found. */
export function compileCommand(file: string, source: CommandFile, workflow: ApiWorkflow): Parsed<CommandDefinition> {
  const problems: Problem[] = [];
  const options: OptionDefinition[] = [];
  const names = new Set<string>();
  for (const raw of source.options ?? []) {
    if (names.has(raw.name)) {
      problems.push({ file, option: raw.name, message: 'option name is used twice' });
      continue;
    }
    names.add(raw.name);
    try {
      options.push(compileOption(raw, workflow));
    } catch (error) {
      if (!(error instanceof DefinitionError)) throw error;
      problems.push({ file, option: raw.name, message: error.message });
    }
  }
  const visible = options.filter((option) => !option.hidden).length;
  if (visible > MAX_OPTIONS) problems.push({ file, message: `${visible} visible options; Discord allows at most ${MAX_OPTIONS}` });
  problems.push(...targetConflicts(file, options));

  let outputs: string[] = sinkNodes(workflow);
  if (source.outputs) {
    outputs = [];
    for (const ref of source.outputs) {
      try {
        outputs.push(resolveNode(workflow, ref).nodeId);
      } catch (error) {
        if (!(error instanceof DefinitionError)) throw error;
        problems.push({ file, message: `outputs: ${error.message}` });
      }
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  const limits = source.limits ?? {};
  return {
    ok: true,
    value: {
      name: source.name,
      description: source.description,
      guildOnly: source.guild_only ?? true,
      file,
      template: source.template,
      workflow: deepFreeze(structuredClone(workflow)),
      options,
      outputs,
      // Actions name other commands, so they are linked once every command is loaded (see actions.ts).
      actions: [],
      limits: {
        ...(limits.per_user_running !== undefined && { perUserRunning: limits.per_user_running }),
        ...(limits.per_user_queued !== undefined && { perUserQueued: limits.per_user_queued }),
        ...(limits.min_interval_seconds !== undefined && { minIntervalSeconds: limits.min_interval_seconds }),
        ...(limits.daily_quota !== undefined && { dailyQuota: limits.daily_quota }),
      },
    },
  };
}

function targetConflicts(file: string, options: OptionDefinition[]): Problem[] {
  const owner = new Map<string, string>();
  const problems: Problem[] = [];
  for (const option of options) {
    for (const target of optionTargets(option)) {
      const key = `${target.nodeId}\u0000${target.input}`;
      const other = owner.get(key);
      if (other !== undefined) {
        const message = `writes input "${target.input}" of node ${target.nodeId}, as option "${other}" does`;
        problems.push({ file, option: option.name, message });
      } else owner.set(key, option.name);
    }
  }
  return problems;
}

function compileOption(raw: OptionFile, workflow: ApiWorkflow): OptionDefinition {
  const hidden = raw.hidden ?? false;
  const required = raw.required ?? false;
  if (raw.type === 'image') {
    if (hidden) throw new DefinitionError('an image option cannot be hidden');
    const description = raw.description ?? raw.name;
    const target = resolveTarget(workflow, raw.target);
    if (raw.bypass_if_missing !== undefined && required) throw new DefinitionError('bypass_if_missing is for optional images (a required one is always given)');
    const bypass = raw.bypass_if_missing === undefined ? undefined : resolveBypass(workflow, raw.bypass_if_missing, target.nodeId);
    return { type: 'image', name: raw.name, description, required, hidden: false, target, ...(bypass && { bypassIfMissing: bypass }) };
  }
  // Hidden options carry their fixed `value`; it is then handled exactly like a default the user cannot change.
  if (hidden) {
    if (raw.value === undefined) throw new DefinitionError('a hidden option needs a fixed "value"');
    if (required) throw new DefinitionError('a hidden option cannot be required');
    if (raw.default !== undefined) throw new DefinitionError('a hidden option has a fixed "value", not a "default"');
  } else if (raw.value !== undefined) {
    throw new DefinitionError('"value" is only for hidden options; use "default" for a value users may change');
  }
  const fallback = hidden ? raw.value : raw.default;
  if (required && fallback !== undefined) throw new DefinitionError('a required option cannot have a default');
  const base = { name: raw.name, description: raw.description ?? raw.name, required, hidden };
  switch (raw.type) {
    case 'string':
      return compileString(base, raw, fallback as string | undefined, workflow);
    case 'integer':
      return compileInteger(base, raw, fallback as IntegerFileValue | undefined, workflow);
    case 'number':
      return compileNumber(base, raw, fallback as number | undefined, workflow);
    case 'boolean':
      return {
        ...base,
        type: 'boolean',
        ...(fallback !== undefined && { default: fallback as boolean }),
        target: resolveTarget(workflow, raw.target),
      };
    case 'choice':
      return compileChoice(base, raw, fallback as string | ModelPreferenceFile | undefined, workflow);
  }
}

type Base = Pick<OptionDefinition, 'name' | 'description' | 'required' | 'hidden'>;
type IntegerFileValue = number | bigint | string;

function compileString(
  base: Base,
  raw: Extract<OptionFile, { type: 'string' }>,
  fallback: string | undefined,
  workflow: ApiWorkflow,
): StringOption {
  const minLength = raw.min_length ?? 0;
  const maxLength = raw.max_length ?? DEFAULT_MAX_LENGTH;
  if (minLength > maxLength) throw new DefinitionError(`min_length ${minLength} is greater than max_length ${maxLength}`);
  if (fallback !== undefined && (fallback.length < minLength || fallback.length > maxLength)) {
    throw new DefinitionError(`default is ${fallback.length} characters long, outside ${minLength}-${maxLength}`);
  }
  const target = resolveTarget(workflow, raw.target);
  return { ...base, type: 'string', minLength, maxLength, ...(fallback !== undefined && { default: fallback }), target };
}

/** Without explicit bounds an integer is limited to what Discord and JavaScript numbers carry exactly. */
function compileInteger(
  base: Base,
  raw: Extract<OptionFile, { type: 'integer' }>,
  fallback: IntegerFileValue | undefined,
  workflow: ApiWorkflow,
): IntegerOption {
  const min = raw.min === undefined ? -SAFE_MAX : BigInt(raw.min);
  const max = raw.max === undefined ? SAFE_MAX : BigInt(raw.max);
  if (min > max) throw new DefinitionError(`min ${min} is greater than max ${max}`);
  let value: bigint | 'random' | undefined;
  if (fallback === 'random') value = 'random';
  else if (fallback !== undefined) {
    value = BigInt(fallback);
    if (value < min || value > max) throw new DefinitionError(`default ${value} is outside the range ${min}..${max}`);
  }
  return { ...base, type: 'integer', min, max, ...(value !== undefined && { default: value }), target: resolveTarget(workflow, raw.target) };
}

function compileNumber(
  base: Base,
  raw: Extract<OptionFile, { type: 'number' }>,
  fallback: number | undefined,
  workflow: ApiWorkflow,
): NumberOption {
  const { min, max, step } = raw;
  if (min !== undefined && max !== undefined && min > max) throw new DefinitionError(`min ${min} is greater than max ${max}`);
  if (fallback !== undefined) {
    if ((min !== undefined && fallback < min) || (max !== undefined && fallback > max)) {
      throw new DefinitionError(`default ${fallback} is outside the range ${min ?? '-∞'}..${max ?? '∞'}`);
    }
    if (step !== undefined && !onStep(fallback, min ?? 0, step)) throw new DefinitionError(`default ${fallback} is not on the step ${step}`);
  }
  return {
    ...base,
    type: 'number',
    ...(min !== undefined && { min }),
    ...(max !== undefined && { max }),
    ...(step !== undefined && { step }),
    ...(fallback !== undefined && { default: fallback }),
    target: resolveTarget(workflow, raw.target),
  };
}

function compileChoice(
  base: Base,
  raw: Extract<OptionFile, { type: 'choice' }>,
  fileDefault: string | ModelPreferenceFile | undefined,
  workflow: ApiWorkflow,
): ChoiceOption {
  if ((raw.choices === undefined) === (raw.choices_from === undefined)) {
    throw new DefinitionError('a choice option needs exactly one of "choices" (a fixed list) or "choices_from" (a live list)');
  }
  if ((raw.target === undefined) === (raw.targets === undefined)) {
    throw new DefinitionError('a choice option needs exactly one of "target" or "targets"');
  }
  const models = raw.choices_from === undefined ? null : /^models\/([^/]+)$/.exec(raw.choices_from);
  if (typeof fileDefault === 'object' && !models) {
    throw new DefinitionError('a default with "prefer"/"else" is for model lists (choices_from: models/<folder>); give a single value here');
  }
  const fallback = typeof fileDefault === 'object' ? modelPreference(fileDefault) : fileDefault;
  const withDefault = fallback === undefined ? {} : { default: fallback };
  if (raw.choices_from !== undefined) {
    if (raw.target === undefined) throw new DefinitionError('"targets" needs fixed "choices" that give a value for each target; use "target"');
    const target = resolveTarget(workflow, raw.target);
    if (models) return { ...base, type: 'choice', source: { kind: 'models', folder: models[1] as string, target }, ...withDefault };
    const info = /^object_info\/([^/]+)\/([^/]+)$/.exec(raw.choices_from);
    if (info) {
      const source = { kind: 'object_info' as const, nodeClass: info[1] as string, input: info[2] as string, target };
      return { ...base, type: 'choice', source, ...withDefault };
    }
    throw new DefinitionError(`choices_from "${raw.choices_from}" must be models/<folder> or object_info/<Class>/<input>`);
  }
  const choices = fixedChoices(raw.choices as NonNullable<typeof raw.choices>, raw.target, raw.targets, workflow);
  if (choices.length === 0) throw new DefinitionError('"choices" is empty');
  if (choices.length > MAX_CHOICES) {
    throw new DefinitionError(`${choices.length} fixed choices; Discord shows at most ${MAX_CHOICES} (use choices_from for longer lists)`);
  }
  const tooLong = choices.find((choice) => choice.name.length < 1 || choice.name.length > 100);
  if (tooLong) throw new DefinitionError(`choice name "${tooLong.name}" must be 1-100 characters`);
  if (typeof fallback === 'string' && !choices.some((choice) => choice.name === fallback)) {
    throw new DefinitionError(`default "${fallback}" is not one of the choices (${choices.map((c) => c.name).join(', ')})`);
  }
  return { ...base, type: 'choice', source: { kind: 'fixed', choices }, ...withDefault };
}

function modelPreference(file: ModelPreferenceFile): ModelPreference {
  const prefer = file.prefer ?? [];
  if (prefer.length === 0 && file.else === undefined) {
    throw new DefinitionError('default: give "prefer: [model names…]", "else: first", or both');
  }
  const twice = prefer.find((name, index) => prefer.indexOf(name) !== index);
  if (twice !== undefined) throw new DefinitionError(`default: "${twice}" is listed twice in "prefer"`);
  return { prefer: [...prefer], fallback: file.else ?? null };
}

type FileChoices = string[] | Record<string, FileScalar | Record<string, FileScalar>>;

function fixedChoices(
  choices: FileChoices,
  target: string | undefined,
  targets: Record<string, string> | undefined,
  workflow: ApiWorkflow,
): FixedChoice[] {
  if (Array.isArray(choices)) {
    if (target === undefined) throw new DefinitionError('a list of choices sets one input: use "target", or a map of choices with "targets"');
    const resolved = resolveTarget(workflow, target);
    return choices.map((name) => ({ name, writes: [{ target: resolved, value: name }] }));
  }
  if (target !== undefined) {
    const resolved = resolveTarget(workflow, target);
    return Object.entries(choices).map(([name, value]) => {
      if (isRecord(value)) throw new DefinitionError(`choice "${name}" sets several inputs; that needs "targets" instead of "target"`);
      return { name, writes: [{ target: resolved, value: toScalar(value) }] };
    });
  }
  const refs = Object.entries(targets ?? {});
  const keys = refs.map(([key]) => key);
  const resolved = new Map<string, ResolvedTarget>(refs.map(([key, ref]) => [key, resolveTarget(workflow, ref)]));
  return Object.entries(choices).map(([name, values]) => {
    if (!isRecord(values)) throw new DefinitionError(`choice "${name}" must map each of the targets (${keys.join(', ')}) to a value`);
    const given = Object.keys(values);
    const missing = keys.filter((key) => !given.includes(key));
    const unknown = given.filter((key) => !resolved.has(key));
    if (missing.length > 0) throw new DefinitionError(`choice "${name}" has no value for ${missing.join(', ')}`);
    if (unknown.length > 0) {
      throw new DefinitionError(`choice "${name}" sets ${unknown.join(', ')}, which is not in "targets" (${keys.join(', ')})`);
    }
    return { name, writes: keys.map((key) => ({ target: resolved.get(key) as ResolvedTarget, value: toScalar(values[key] as FileScalar) })) };
  });
}

/** Large integers are written as decimal strings, which ComfyUI converts with int(). */
function toScalar(value: FileScalar): Scalar {
  return typeof value === 'bigint' ? value.toString() : value;
}
