// A command as the rest of the product sees it: a validated command file bound to its template. Every target is
// already resolved to a node id and a literal input, and every range is known, so preparing a job cannot fail on
// the admin's files, only on the user's values.
import type { ApiWorkflow } from '../comfy/types.js';
import type { Bypass } from './bypass.js';
import type { ModelPreference } from './model-choice.js';
import type { ResolvedTarget } from './targets.js';

export type Scalar = string | number | boolean;

/** A single workflow write: one input gets one value. */
export interface Write {
  target: ResolvedTarget;
  value: Scalar;
}

interface OptionBase {
  name: string;
  description: string;
  /** The user must supply it (never true for hidden options or options with a default). */
  required: boolean;
  /** Not shown in Discord; its `default` is the fixed value and user values are refused. */
  hidden: boolean;
}

export interface StringOption extends OptionBase {
  type: 'string';
  minLength: number;
  maxLength: number;
  default?: string;
  target: ResolvedTarget;
}

export interface IntegerOption extends OptionBase {
  type: 'integer';
  min: bigint;
  max: bigint;
  /** `'random'`: a fresh value in [min, max] per job. */
  default?: bigint | 'random';
  target: ResolvedTarget;
}

export interface NumberOption extends OptionBase {
  type: 'number';
  min?: number;
  max?: number;
  /** Values must be min (or 0) plus a whole number of steps. */
  step?: number;
  default?: number;
  target: ResolvedTarget;
}

export interface BooleanOption extends OptionBase {
  type: 'boolean';
  default?: boolean;
  target: ResolvedTarget;
}

/** A named choice; picking it performs its writes (one choice may set several inputs). */
export interface FixedChoice {
  name: string;
  writes: Write[];
}

export type ChoiceList =
  | { kind: 'fixed'; choices: FixedChoice[] }
  | { kind: 'models'; folder: string; target: ResolvedTarget }
  | { kind: 'object_info'; nodeClass: string; input: string; target: ResolvedTarget };

export interface ChoiceOption extends OptionBase {
  type: 'choice';
  source: ChoiceList;
  /**
   * A choice name (fixed) or a value from the live list; for a model list also a preference, resolved on the
   * backend the job runs on (model-choice.ts).
   */
  default?: string | ModelPreference;
}

export interface ImageOption extends OptionBase {
  type: 'image';
  hidden: false;
  target: ResolvedTarget;
  /** An optional image's node to bypass when it is not given (see bypass.ts). */
  bypassIfMissing?: Bypass;
}

export type OptionDefinition = StringOption | IntegerOption | NumberOption | BooleanOption | ChoiceOption | ImageOption;

export interface CommandLimits {
  perUserRunning?: number;
  perUserQueued?: number;
  minIntervalSeconds?: number;
  dailyQuota?: number;
}

/** Where a follow-up action takes one option's value from. */
export type ActionBinding =
  /** The parent's output image the button stands for (`per: output`). */
  | { kind: 'output' }
  /** A fresh random integer in the option's range. */
  | { kind: 'random' }
  /** The value the parent job used for one of its options. */
  | { kind: 'parent'; option: string }
  | { kind: 'value'; value: Scalar };

export type ActionStyle = 'primary' | 'secondary' | 'success' | 'danger';

/** A follow-up button on a finished card; checked against its target command when the commands load. */
export interface ActionDefinition {
  name: string;
  label: string;
  emoji?: string;
  style: ActionStyle;
  /** The command it runs (may be the parent's own). */
  command: string;
  /** `output`: a numbered button per image; `image`: one button where a single image is shown (see file-schema.ts). */
  per: 'job' | 'output' | 'image';
  /** Start from the parent's values (and image inputs) for every option both commands have. */
  inherit: boolean;
  /** Options of the target edited in a modal before the job is submitted; empty: no modal. */
  remix: readonly string[];
  bindings: Readonly<Record<string, ActionBinding>>;
}

export interface CommandDefinition {
  name: string;
  description: string;
  guildOnly: boolean;
  /** Path of the command file, for messages. */
  file: string;
  /** The template file name as written in the command file. */
  template: string;
  /** The parsed template; never mutated (prepareJob works on a copy). */
  workflow: Readonly<ApiWorkflow>;
  options: readonly OptionDefinition[];
  /** Node ids whose outputs are delivered. */
  outputs: readonly string[];
  limits: CommandLimits;
  /** Follow-up buttons, in the order the file declares them; broken ones were skipped at load. */
  actions: readonly ActionDefinition[];
}

/** "The prompt" of a command: the visible string option named `prompt`, else the first required visible one. */
export function promptOptionOf(definition: Pick<CommandDefinition, 'options'>): string | null {
  const strings = definition.options.filter((option) => option.type === 'string' && !option.hidden);
  return (strings.find((option) => option.name === 'prompt') ?? strings.find((option) => option.required))?.name ?? null;
}

/** Every input an option may write to, for conflict and live checks. */
export function optionTargets(option: OptionDefinition): ResolvedTarget[] {
  if (option.type !== 'choice') return [option.target];
  if (option.source.kind !== 'fixed') return [option.source.target];
  const seen = new Map<string, ResolvedTarget>();
  for (const choice of option.source.choices) {
    for (const write of choice.writes) seen.set(`${write.target.nodeId}\u0000${write.target.input}`, write.target);
  }
  return [...seen.values()];
}
