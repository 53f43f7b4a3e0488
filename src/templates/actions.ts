// Follow-up actions: the `actions:` of a command file, checked against the command each one runs once every
// command is loaded (an action may name any command), and the values a pressed action submits. A broken action
// is skipped with a one-line problem; its command and the other actions load.
import type { ActionBinding, ActionDefinition, CommandDefinition, OptionDefinition, Scalar } from './definition.js';
import { promptOptionOf } from './definition.js';
import { OptionError, type Problem } from './errors.js';
import { actionFileSchema, type ActionFile, type FileScalar } from './file-schema.js';
import { randomCeiling } from './prepare.js';
import { random64, randomInRange } from './random.js';
import { checkBoolean, checkChoice, checkInteger, checkNumber, checkString } from './values.js';

/** Names the card uses for its own buttons (see discord/customIds.ts); an action may not take them. */
const RESERVED = new Set(['cancel', 'delete', 'files', 'pick']);
/** Discord: 5 rows of 5 buttons. Per-output actions take a row each; the Delete button shares the job row. */
const MAX_ROWS = 5;
const PER_ROW = 5;

/** Compiles and checks the raw `actions:` of `parent` against the loaded commands; broken ones are skipped. */
export function linkActions(
  parent: CommandDefinition,
  raws: readonly unknown[],
  commands: ReadonlyMap<string, CommandDefinition>,
): { actions: ActionDefinition[]; problems: Problem[] } {
  const actions: ActionDefinition[] = [];
  const problems: Problem[] = [];
  raws.forEach((raw, index) => {
    const label = actionLabel(raw, index);
    const skip = (message: string) => problems.push({ file: parent.file, action: label, message });
    const parsed = actionFileSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return skip(`${issue?.path.length ? `${issue.path.join('.')}: ` : ''}${issue?.message ?? 'invalid'}`);
    }
    if (actions.some((action) => action.name === parsed.data.name)) return skip('the name is used by another action');
    try {
      const action = compileAction(parsed.data, parent, commands);
      if (rowsNeeded([...actions, action]) > MAX_ROWS) {
        return skip(`too many buttons: Discord shows at most ${MAX_ROWS} rows of ${PER_ROW} (each per-output action takes a row)`);
      }
      actions.push(action);
    } catch (error) {
      if (!(error instanceof ActionError)) throw error;
      skip(error.message);
    }
  });
  return { actions, problems };
}

class ActionError extends Error {}

function actionLabel(raw: unknown, index: number): string {
  const name = typeof raw === 'object' && raw !== null ? (raw as { name?: unknown }).name : undefined;
  return typeof name === 'string' && name.length > 0 ? name.slice(0, 40) : `#${index + 1}`;
}

/**
 * Rows the fullest card needs: on a batch, the job row (with Delete and Files), the U1-U4 row and one row per
 * per-output action; where one image is shown, the job row and the image's buttons (per-output and per-image)
 * five to a row.
 */
function rowsNeeded(actions: readonly ActionDefinition[]): number {
  const count = (per: ActionDefinition['per']) => actions.filter((action) => action.per === per).length;
  const batch = Math.ceil((count('job') + 2) / PER_ROW) + 1 + count('output');
  const single = Math.ceil((count('job') + 1) / PER_ROW) + Math.ceil((count('output') + count('image')) / PER_ROW);
  return Math.max(batch, single);
}

function compileAction(raw: ActionFile, parent: CommandDefinition, commands: ReadonlyMap<string, CommandDefinition>): ActionDefinition {
  if (RESERVED.has(raw.name)) throw new ActionError(`"${raw.name}" is the card's own button`);
  const targetName = raw.command ?? parent.name;
  const target = targetName === parent.name ? parent : commands.get(targetName);
  if (!target) throw new ActionError(`runs /${targetName}, which is not a loaded command`);
  const per = raw.per ?? 'job';
  const bindings: Record<string, ActionBinding> = {};
  for (const [name, value] of Object.entries(raw.with ?? {})) {
    const option = target.options.find((candidate) => candidate.name === name);
    if (!option) throw new ActionError(`with.${name}: /${target.name} has no option "${name}"`);
    if (option.hidden) throw new ActionError(`with.${name}: the option is hidden (fixed by /${target.name})`);
    bindings[name] = compileBinding(option, value, parent, per);
  }
  const remix = remixOptions(raw.remix, target);
  const inherit = raw.inherit ?? false;
  for (const option of target.options) {
    if (!option.required || Object.hasOwn(bindings, option.name) || remix.includes(option.name)) continue;
    if (inherit && parent.options.some((candidate) => candidate.name === option.name && candidate.type === option.type)) continue;
    throw new ActionError(`/${target.name} requires "${option.name}", which the action does not give (with: or inherit: true)`);
  }
  return {
    name: raw.name,
    label: raw.label ?? raw.name,
    ...(raw.emoji !== undefined && { emoji: raw.emoji }),
    style: raw.style ?? 'secondary',
    command: target.name,
    per,
    inherit,
    remix,
    bindings,
  };
}

function compileBinding(option: OptionDefinition, value: FileScalar, parent: CommandDefinition, per: ActionDefinition['per']): ActionBinding {
  const where = `with.${option.name}`;
  if (value === '$output') {
    if (option.type !== 'image') throw new ActionError(`${where}: $output is an image and "${option.name}" is ${kindOf(option)}`);
    if (per === 'job') throw new ActionError(`${where}: $output needs "per: output" or "per: image" (a button for an image)`);
    return { kind: 'output' };
  }
  if (value === '$random') {
    if (option.type !== 'integer') throw new ActionError(`${where}: $random draws a whole number and "${option.name}" is ${kindOf(option)}`);
    return { kind: 'random' };
  }
  if (typeof value === 'string' && value.startsWith('$parent.')) {
    const source = value.slice('$parent.'.length);
    const from = parent.options.find((candidate) => candidate.name === source);
    if (!from) throw new ActionError(`${where}: /${parent.name} has no option "${source}"`);
    if ((from.type === 'image') !== (option.type === 'image')) throw new ActionError(`${where}: "${source}" and "${option.name}" must both be images or both not`);
    return { kind: 'parent', option: source };
  }
  if (typeof value === 'string' && value.startsWith('$')) {
    throw new ActionError(`${where}: unknown binding ${value} (use $output, $random, $parent.<option> or a constant)`);
  }
  if (option.type === 'image') throw new ActionError(`${where}: an image option takes $output or $parent.<image option>`);
  try {
    checkValue(option, value);
  } catch (error) {
    if (error instanceof OptionError) throw new ActionError(`${where}: ${error.message}`);
    throw error;
  }
  return { kind: 'value', value: typeof value === 'bigint' ? value.toString() : value };
}

function kindOf(option: OptionDefinition): string {
  return `${/^[aeiou]/.test(option.type) ? 'an' : 'a'} ${option.type} option`;
}

function checkValue(option: Exclude<OptionDefinition, { type: 'image' }>, value: FileScalar): void {
  switch (option.type) {
    case 'string':
      return void checkString(option, value);
    case 'integer':
      return void checkInteger(option, value);
    case 'number':
      return void checkNumber(option, value);
    case 'boolean':
      return void checkBoolean(option, value);
    case 'choice':
      return void checkChoice(option, value);
  }
}

function remixOptions(remix: ActionFile['remix'], target: CommandDefinition): string[] {
  if (remix === undefined || remix === false) return [];
  if (remix === true) {
    const prompt = promptOptionOf(target);
    if (prompt === null) throw new ActionError(`remix: /${target.name} has no prompt option to edit (name the options instead)`);
    return [prompt];
  }
  for (const name of remix) {
    const option = target.options.find((candidate) => candidate.name === name);
    if (!option || option.hidden) throw new ActionError(`remix: /${target.name} has no visible option "${name}"`);
    if (option.type === 'image') throw new ActionError(`remix: "${name}" is an image; a modal edits text`);
  }
  return [...new Set(remix)];
}

/** The parent job as an action sees it. */
export interface ActionParent {
  command: CommandDefinition | undefined;
  params: Readonly<Record<string, unknown>>;
  /** Names of the parent's image options that have stored inputs. */
  images: readonly string[];
}

export interface ActionValues {
  /** Raw values for prepareJob (image options get their bytes from the caller). */
  values: Record<string, unknown>;
  /** The image option that takes the chosen output, if any. */
  outputOption: string | null;
  /** Target image option → the parent's stored image option it reuses. */
  parentImages: Record<string, string>;
}

/** What a pressed action submits to `target`, before any remix edits; checking is prepareJob's, as for a slash command. */
export function actionValues(action: ActionDefinition, target: CommandDefinition, parent: ActionParent, random: () => bigint = random64): ActionValues {
  const values: Record<string, unknown> = {};
  const parentImages: Record<string, string> = {};
  let outputOption: string | null = null;
  const parentImage = (targetOption: string, source: string): void => {
    if (parent.images.includes(source)) parentImages[targetOption] = source;
  };
  if (action.inherit) {
    for (const option of target.options) {
      if (option.hidden) continue;
      const same = parent.command?.options.find((candidate) => candidate.name === option.name && candidate.type === option.type);
      if (option.type === 'image') {
        if (same) parentImage(option.name, option.name);
      } else if (Object.hasOwn(parent.params, option.name)) values[option.name] = parent.params[option.name];
    }
  }
  for (const [name, binding] of Object.entries(action.bindings)) {
    const option = target.options.find((candidate) => candidate.name === name);
    if (!option) continue;
    delete values[name];
    delete parentImages[name];
    switch (binding.kind) {
      case 'output':
        outputOption = name;
        break;
      case 'random':
        if (option.type === 'integer') values[name] = randomInRange(option.min, randomCeiling(option.max), random).toString();
        break;
      case 'parent':
        if (option.type === 'image') parentImage(name, binding.option);
        else if (Object.hasOwn(parent.params, binding.option)) values[name] = parent.params[binding.option];
        break;
      case 'value':
        values[name] = binding.value satisfies Scalar;
        break;
    }
  }
  return { values, outputOption, parentImages };
}
