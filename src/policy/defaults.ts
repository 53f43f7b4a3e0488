// A user's saved option values: checked against the command as it is now (command files change under saved
// values), and merged under what the user typed. Precedence: explicit options, then saved defaults, then the
// command file's defaults — the last applied by prepareJob for whatever is still missing.
import type { UserDefaults } from '../jobs/store-settings.js';
import type { CommandDefinition, OptionDefinition, Scalar } from '../templates/definition.js';
import { OptionError } from '../templates/errors.js';
import { checkBoolean, checkChoice, checkInteger, checkNumber, checkString, integerForWorkflow } from '../templates/values.js';

export interface DroppedDefault {
  option: string;
  reason: string;
}

export interface CheckedDefaults {
  valid: UserDefaults;
  dropped: DroppedDefault[];
}

/** Why an option cannot carry a saved default, or null when it can. */
function notSavable(command: CommandDefinition, option: OptionDefinition | undefined, name: string): string | null {
  if (!option) return `/${command.name} no longer has an option "${name}"`;
  if (option.hidden) return `${name} is fixed by /${command.name}`;
  if (option.type === 'image') return `${name} is an image; images cannot be saved`;
  if (option.required) return `${name} is required, so Discord always asks for it`;
  return null;
}

/**
 * The value as it is saved: the checked form of `raw` (a string from `/settings set`, or a stored value).
 * Throws OptionError with a message for the user.
 */
export function checkDefault(command: CommandDefinition, name: string, raw: unknown): Scalar {
  const option = command.options.find((candidate) => candidate.name === name);
  const problem = notSavable(command, option, name);
  if (problem !== null || !option || option.type === 'image') throw new OptionError(name, problem ?? `${name} cannot be saved`);
  switch (option.type) {
    case 'string':
      return checkString(option, raw);
    case 'integer':
      // Integers past 2^53 stay decimal strings, as in workflows.
      return integerForWorkflow(checkInteger(option, raw));
    case 'number':
      return checkNumber(option, raw);
    case 'boolean':
      return checkBoolean(option, raw);
    case 'choice':
      return checkChoice(option, raw);
  }
}

/** Splits saved defaults into those still valid for the command and those to drop, each with its reason. */
export function checkDefaults(command: CommandDefinition, saved: UserDefaults): CheckedDefaults {
  const valid: UserDefaults = {};
  const dropped: DroppedDefault[] = [];
  for (const [name, raw] of Object.entries(saved)) {
    try {
      valid[name] = checkDefault(command, name, raw);
    } catch (error) {
      if (!(error instanceof OptionError)) throw error;
      dropped.push({ option: name, reason: error.message });
    }
  }
  return { valid, dropped };
}

export interface AppliedDefaults {
  /** Raw values for prepareJob. */
  values: Record<string, unknown>;
  /** Saved values that were not used because they no longer fit the command (tell the user; maybe re-save). */
  dropped: DroppedDefault[];
}

/** Explicit values (absent = undefined or null, as Discord leaves them) win over valid saved defaults. */
export function applyDefaults(command: CommandDefinition, explicit: Record<string, unknown>, saved: UserDefaults): AppliedDefaults {
  const { valid, dropped } = checkDefaults(command, saved);
  // Typed values first, so logs and cards list what the member wrote before what was filled in.
  const values: Record<string, unknown> = Object.fromEntries(Object.entries(explicit).filter(([, value]) => value !== undefined && value !== null));
  for (const [name, value] of Object.entries(valid)) {
    if (!Object.hasOwn(values, name)) values[name] = value;
  }
  return { values, dropped };
}
