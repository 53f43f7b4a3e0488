// Checking one user-supplied value against its option. Values arrive from Discord (typed) or from the command
// line (strings), so each type accepts its natural form and its decimal-string form, and nothing else.
import type { BooleanOption, ChoiceOption, IntegerOption, NumberOption, StringOption } from './definition.js';
import { OptionError } from './errors.js';

const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);
/** Longest live-list value accepted (model paths); Discord's autocomplete values are at most 100 characters. */
const MAX_LIVE_VALUE = 512;

export function checkString(option: StringOption, raw: unknown): string {
  if (typeof raw !== 'string') throw new OptionError(option.name, `${option.name} must be text`);
  if (raw.length > option.maxLength) {
    throw new OptionError(option.name, `${option.name} must be at most ${option.maxLength} characters (got ${raw.length})`);
  }
  if (raw.length < option.minLength) {
    throw new OptionError(option.name, `${option.name} must be at least ${option.minLength} characters (got ${raw.length})`);
  }
  return raw;
}

export function checkInteger(option: IntegerOption, raw: unknown): bigint {
  let value: bigint;
  if (typeof raw === 'bigint') value = raw;
  else if (typeof raw === 'number' && Number.isSafeInteger(raw)) value = BigInt(raw);
  else if (typeof raw === 'string' && /^-?\d{1,40}$/.test(raw.trim())) value = BigInt(raw.trim());
  else throw new OptionError(option.name, `${option.name} must be a whole number (got ${describe(raw)})`);
  if (value < option.min || value > option.max) {
    throw new OptionError(option.name, `${option.name} must be between ${option.min} and ${option.max} (got ${value})`);
  }
  return value;
}

/** Integers beyond 2^53-1 cannot be JSON numbers without losing digits, so they travel as decimal strings. */
export function integerForWorkflow(value: bigint): number | string {
  return value <= SAFE_MAX && value >= -SAFE_MAX ? Number(value) : value.toString();
}

export function checkNumber(option: NumberOption, raw: unknown): number {
  const value = typeof raw === 'string' && /^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new OptionError(option.name, `${option.name} must be a number (got ${describe(raw)})`);
  }
  const { min, max, step } = option;
  if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
    const range = min === undefined ? `at most ${max}` : max === undefined ? `at least ${min}` : `between ${min} and ${max}`;
    throw new OptionError(option.name, `${option.name} must be ${range} (got ${value})`);
  }
  if (step !== undefined && !onStep(value, min ?? 0, step)) {
    throw new OptionError(option.name, `${option.name} must be in steps of ${step} (got ${value})`);
  }
  return value;
}

/** Whether `value` is `origin` plus a whole number of steps, allowing for binary rounding. */
export function onStep(value: number, origin: number, step: number): boolean {
  const steps = (value - origin) / step;
  return Math.abs(steps - Math.round(steps)) < 1e-9;
}

export function checkBoolean(option: BooleanOption, raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  throw new OptionError(option.name, `${option.name} must be true or false (got ${describe(raw)})`);
}

/** The choice name (fixed) or the live-list value; membership in a live list is ComfyUI's to check. */
export function checkChoice(option: ChoiceOption, raw: unknown): string {
  if (typeof raw !== 'string' || raw.length === 0) throw new OptionError(option.name, `${option.name} must be one of the offered choices`);
  if (option.source.kind === 'fixed') {
    if (!option.source.choices.some((choice) => choice.name === raw)) {
      const names = option.source.choices.map((choice) => choice.name).join(', ');
      throw new OptionError(option.name, `${option.name} must be one of ${names} (got ${describe(raw)})`);
    }
  } else if (raw.length > MAX_LIVE_VALUE || /[\u0000-\u001f]/.test(raw)) {
    throw new OptionError(option.name, `${option.name} must be one of the offered choices (got ${describe(raw)})`);
  }
  return raw;
}

/** A short, safe rendering of a bad value for a message. */
function describe(raw: unknown): string {
  if (typeof raw === 'string') return JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);
  if (typeof raw === 'number' || typeof raw === 'boolean' || typeof raw === 'bigint') return String(raw);
  return raw === null ? 'nothing' : typeof raw;
}

