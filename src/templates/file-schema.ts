// The shape of a command file (YAML). Only the shape lives here; rules that relate fields to each other or to the
// template (ranges, defaults, targets) are checked in compile.ts, where they can name the option.
import { z } from 'zod';

/** Discord's rule for command and option names. */
export const NAME_PATTERN = /^[-_\p{L}\p{N}]{1,32}$/u;

const name = z
  .string()
  .regex(NAME_PATTERN, 'must be 1-32 characters: letters, digits, "-" or "_"')
  .refine((value) => value === value.toLowerCase(), 'must be lower case');
const description = z.string().min(1, 'must not be empty').max(100, 'must be at most 100 characters');
/** Integers may be written beyond 2^53 (seeds); YAML integers arrive as bigint when they do. */
const integer = z.union([z.number().int(), z.bigint(), z.string().regex(/^-?\d+$/, 'must be a whole number')], {
  error: 'must be a whole number',
});
const scalar = z.union([z.string(), z.number(), z.boolean(), z.bigint()], { error: 'must be text, a number or true/false' });
const target = z.string().min(1);

const common = {
  name,
  description: description.optional(),
  required: z.boolean().optional(),
  /** Not registered in Discord; the option's `value` is always used. */
  hidden: z.boolean().optional(),
};

/** Discord's limit on a string option, so the longest text any command takes (the blocked lists check no more). */
export const MAX_STRING_LENGTH = 6000;

const stringOption = z.strictObject({
  ...common,
  type: z.literal('string'),
  min_length: z.number().int().min(0).max(MAX_STRING_LENGTH).optional(),
  max_length: z.number().int().min(1).max(MAX_STRING_LENGTH).optional(),
  default: z.string().optional(),
  value: z.string().optional(),
  target,
});

const integerOption = z.strictObject({
  ...common,
  type: z.literal('integer'),
  min: integer.optional(),
  max: integer.optional(),
  default: z.union([integer, z.literal('random')], { error: 'must be a whole number or "random"' }).optional(),
  value: z.union([integer, z.literal('random')], { error: 'must be a whole number or "random"' }).optional(),
  target,
});

const numberOption = z.strictObject({
  ...common,
  type: z.literal('number'),
  min: z.number().optional(),
  max: z.number().optional(),
  step: z.number().positive().optional(),
  default: z.number().optional(),
  value: z.number().optional(),
  target,
});

const booleanOption = z.strictObject({
  ...common,
  type: z.literal('boolean'),
  default: z.boolean().optional(),
  value: z.boolean().optional(),
  target,
});

/**
 * A model picker's default that depends on the backend (model-choice.ts): the first of `prefer` it has, else with
 * `else: first` the first model it lists.
 */
const modelPreference = z.strictObject(
  {
    prefer: z.array(z.string().min(1, 'a model name must not be empty').max(512), { error: 'must be a list of model file names' }).optional(),
    else: z.literal('first', { error: 'must be "first" (the first model the server lists)' }).optional(),
  },
  { error: 'must be a value from the list, or {prefer: [model names…], else: first}' },
);

const choiceOption = z.strictObject({
  ...common,
  type: z.literal('choice'),
  choices: z
    .union([z.array(z.string()), z.record(z.string(), z.union([scalar, z.record(z.string(), scalar)]))], {
      error: 'must be a list of names, a map of name → value, or a map of name → {target: value}',
    })
    .optional(),
  choices_from: z.string().optional(),
  default: z.union([z.string(), modelPreference], { error: 'must be a value from the list, or {prefer: [model names…], else: first}' }).optional(),
  value: z.string().optional(),
  target: target.optional(),
  targets: z.record(z.string(), target).optional(),
});

const imageOption = z.strictObject({
  ...common,
  type: z.literal('image'),
  target,
  /** An optional image: when it is not given, this `<node>.<input>` is bypassed (see commands/README.md). */
  bypass_if_missing: z.string().min(1).optional(),
});

const optionFileSchema = z.discriminatedUnion(
  'type',
  [stringOption, integerOption, numberOption, booleanOption, choiceOption, imageOption],
  { error: 'type must be one of string, integer, number, boolean, choice, image' },
);

const positiveInt = z.number().int().positive();

/** Action names go into custom_ids next to a job id (Discord caps those at 100 characters). */
export const ACTION_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,19}$/;

/**
 * One follow-up button. Checked action by action (not with the whole file), so a broken action is skipped and
 * the command keeps its other actions.
 */
export const actionFileSchema = z.strictObject({
  name: z.string().regex(ACTION_NAME_PATTERN, 'must be 1-20 characters: a-z, 0-9, "-" or "_", starting with a letter or digit'),
  label: z.string().min(1, 'must not be empty').max(70, 'must be at most 70 characters').optional(),
  emoji: z.string().min(1).max(64).optional(),
  style: z.enum(['primary', 'secondary', 'success', 'danger']).optional(),
  /** The command the button runs; default: this command. */
  command: name.optional(),
  /**
   * `job`: one button; `output`: one button per image, numbered (a row of its own on a batch); `image`: one
   * button, only where one image is shown (a single-image card, or a batch image posted with U<n>).
   */
  per: z.enum(['job', 'output', 'image']).optional(),
  /** Start from the parent's values for every option both commands have (image inputs included). */
  inherit: z.boolean().optional(),
  /** A modal first: `true` edits the prompt; a list names the options to edit (at most 5, Discord's modal limit). */
  remix: z.union([z.boolean(), z.array(name).min(1).max(5)]).optional(),
  /** option → `$output`, `$random`, `$parent.<option>` or a constant. */
  with: z.record(z.string(), scalar).optional(),
});

export const commandFileSchema = z.strictObject({
  name,
  description,
  template: z.string().min(1),
  guild_only: z.boolean().optional(),
  options: z.array(optionFileSchema).optional(),
  /** Node titles, ids (bare YAML numbers are ids) or unique classes. */
  actions: z.array(z.unknown()).optional(),
  outputs: z.array(z.union([z.string().min(1), z.number().int().min(0).transform(String)])).min(1).optional(),
  limits: z
    .strictObject({
      per_user_running: positiveInt.optional(),
      per_user_queued: z.number().int().min(0).optional(),
      min_interval_seconds: z.number().min(0).optional(),
      daily_quota: positiveInt.optional(),
    })
    .optional(),
});

export type CommandFile = z.infer<typeof commandFileSchema>;
export type ActionFile = z.infer<typeof actionFileSchema>;
export type OptionFile = z.infer<typeof optionFileSchema>;
export type FileScalar = z.infer<typeof scalar>;
export type ModelPreferenceFile = z.infer<typeof modelPreference>;
