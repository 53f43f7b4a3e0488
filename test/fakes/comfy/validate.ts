// POST /prompt validation, reproducing ComfyUI's `execution.validate_prompt` / `validate_inputs` outcomes:
// the same error types, messages, `extra_info` keys and the same odd attribution of inner-link exceptions.
import { comboOptions, type InputSpec, type ObjectInfo } from './object-info.js';

export interface Reason {
  type: string;
  message: string;
  details: string;
  extra_info: Record<string, unknown>;
}

export interface NodeErrorEntry {
  errors: Reason[];
  dependent_outputs: string[];
  class_type: string;
}

export interface PromptErrorBody {
  error: Reason;
  node_errors: Record<string, NodeErrorEntry>;
}

export type PromptNode = { class_type: string; inputs: Record<string, unknown>; [key: string]: unknown };
export type Prompt = Record<string, PromptNode>;

export type ValidationResult =
  | { ok: true; prompt: Prompt; outputs: string[]; nodeErrors: Record<string, NodeErrorEntry> }
  | { ok: false; body: PromptErrorBody };

export interface ValidationContext {
  info: ObjectInfo;
  /** ComfyUI after 0.3.64 reports unknown classes as `missing_node_type` instead of `invalid_prompt`. */
  missingNodeType: boolean;
  /** Does a LoadImage-style `image` value name an existing input file? */
  imageExists: (name: string) => boolean;
  partialTargets: string[] | undefined;
}

/** Nodes whose own VALIDATE_INPUTS replaces the combo check for an input (the file must exist instead). */
const FILE_INPUTS: Readonly<Record<string, string>> = { LoadImage: 'image', LoadImageMask: 'image' };

const VALIDATE_FRAME =
  '  File "/home/user/ComfyUI/execution.py", line 808, in validate_inputs\n    r = await validate_inputs(prompt_id, prompt, o_id, validated)\n';

/** A Python exception raised while validating, as ComfyUI reports it. */
class PyException extends Error {
  constructor(
    readonly pyType: 'KeyError' | 'IndexError',
    message: string,
    readonly frame: string,
  ) {
    super(message);
  }
}

function reason(type: string, message: string, details: string, extra: Record<string, unknown>): Reason {
  return { type, message, details, extra_info: extra };
}

function graphError(type: string, message: string, details: string, extra: Record<string, unknown> = {}): ValidationResult {
  return { ok: false, body: { error: reason(type, message, details, extra), node_errors: {} } };
}

export function isLink(value: unknown): value is [string, number] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'number';
}

function pyRepr(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value === null) return 'None';
  return String(value);
}

function pyNumber(value: number, type: string): string {
  return type === 'FLOAT' && Number.isInteger(value) ? value.toFixed(1) : String(value);
}

/** Python's int()/float()/str()/bool() as the validator applies them; throws the Python message on failure. */
function coerce(type: string, value: unknown): unknown {
  switch (type) {
    case 'INT': {
      if (typeof value === 'number') return Math.trunc(value);
      if (typeof value === 'boolean') return value ? 1 : 0;
      if (typeof value === 'string' && /^\s*[-+]?\d+\s*$/.test(value)) return Number.parseInt(value, 10);
      throw new Error(`invalid literal for int() with base 10: ${pyRepr(value)}`);
    }
    case 'FLOAT': {
      if (typeof value === 'number') return value;
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
      throw new Error(`could not convert string to float: ${pyRepr(value)}`);
    }
    case 'STRING':
      return typeof value === 'string' ? value : pyRepr(value);
    case 'BOOLEAN':
      return Boolean(value);
    default:
      return value;
  }
}

/** `extra_info.input_config` always carries the options object, `{}` when the class declares none. */
function inputConfig(spec: InputSpec): [unknown, Record<string, unknown>] {
  return [spec[0], spec[1] ?? {}];
}

function typesMatch(received: string, expected: string): boolean {
  if (received === expected || received === '*' || expected === '*') return true;
  const accepted = new Set(expected.split(','));
  return received.split(',').every((t) => accepted.has(t));
}

class Validator {
  private readonly validated = new Map<string, { valid: boolean; reasons: Reason[] }>();

  constructor(
    private readonly prompt: Prompt,
    private readonly ctx: ValidationContext,
  ) {}

  get results(): ReadonlyMap<string, { valid: boolean; reasons: Reason[] }> {
    return this.validated;
  }

  upstreamOf(id: string): Set<string> {
    const seen = new Set<string>();
    const walk = (nodeId: string): void => {
      if (seen.has(nodeId)) return;
      seen.add(nodeId);
      for (const value of Object.values(this.prompt[nodeId]?.inputs ?? {})) if (isLink(value)) walk(value[0]);
    };
    walk(id);
    return seen;
  }

  validate(id: string): boolean {
    const done = this.validated.get(id);
    if (done) return done.valid;
    const node = this.prompt[id] as PromptNode;
    const cls = this.ctx.info[node.class_type];
    if (!cls) throw new Error(`validate: unknown class ${node.class_type}`);
    const inputs = node.inputs;
    const required = cls.input.required ?? {};
    const optional = cls.input.optional ?? {};
    const reasons: Reason[] = [];
    let valid = true;

    for (const name of Object.keys(required)) {
      if (!(name in inputs)) {
        reasons.push(reason('required_input_missing', 'Required input is missing', name, { input_name: name }));
        valid = false;
      }
    }

    for (const [name, raw] of Object.entries(inputs)) {
      const spec: InputSpec | undefined = required[name] ?? optional[name];
      if (!spec) continue;
      if (isLink(raw)) {
        const [sourceId, slot] = raw;
        const source = this.prompt[sourceId];
        if (!source) {
          throw new PyException('KeyError', `'${sourceId}'`,
            "  File \"/home/user/ComfyUI/execution.py\", line 788, in validate_inputs\n    o_class_type = prompt[o_id]['class_type']\n");
        }
        const outputs = this.ctx.info[source.class_type]?.output ?? [];
        const received = outputs[slot];
        if (received === undefined) {
          throw new PyException('IndexError', 'tuple index out of range',
            '  File "/home/user/ComfyUI/execution.py", line 790, in validate_inputs\n    received_type = r[val[1]]\n');
        }
        if (typeof spec[0] === 'string' && !typesMatch(received, spec[0])) {
          reasons.push(reason('return_type_mismatch', 'Return type mismatch between linked nodes',
            `${name}, received_type(${received}) mismatch input_type(${spec[0]})`,
            { input_name: name, input_config: inputConfig(spec), received_type: received, linked_node: raw }));
          valid = false;
          continue;
        }
        try {
          if (!this.validate(sourceId)) valid = false;
        } catch (error) {
          if (!(error instanceof PyException)) throw error;
          valid = false;
          this.validated.set(sourceId, {
            valid: false,
            reasons: [reason('exception_during_inner_validation', 'Exception when validating inner node', error.message, {
              input_name: name, input_config: inputConfig(spec), exception_message: error.message, exception_type: error.pyType,
              traceback: [VALIDATE_FRAME, error.frame], linked_node: raw,
            })],
          });
        }
        continue;
      }
      const problem = this.checkLiteral(node.class_type, name, spec, raw);
      if (problem) {
        reasons.push(problem);
        valid = false;
      }
    }
    this.validated.set(id, { valid, reasons });
    return valid;
  }

  private checkLiteral(classType: string, name: string, spec: InputSpec, raw: unknown): Reason | undefined {
    const value = raw !== null && typeof raw === 'object' && '__value__' in raw ? (raw as { __value__: unknown }).__value__ : raw;
    const type = spec[0];
    const opts = spec[1] ?? {};
    if (FILE_INPUTS[classType] === name) {
      if (typeof value === 'string' && this.ctx.imageExists(value)) return undefined;
      return reason('custom_validation_failed', 'Custom validation failed for node',
        `${name} - Invalid image file: ${String(value)}`, { input_name: name });
    }
    const options = comboOptions(spec);
    if (options) {
      if (options.includes(value)) return undefined;
      const listed = options.length <= 20 ? `[${options.map(pyRepr).join(', ')}]` : `(list of length ${options.length})`;
      return reason('value_not_in_list', 'Value not in list', `${name}: ${pyRepr(value)} not in ${listed}`, {
        input_name: name, input_config: options.length <= 20 ? inputConfig(spec) : null, received_value: value,
      });
    }
    if (typeof type !== 'string') return undefined;
    let coerced: unknown;
    try {
      coerced = coerce(type, value);
    } catch (error) {
      const message = (error as Error).message;
      return reason('invalid_input_type', `Failed to convert an input value to a ${type} value`,
        `${name}, ${String(value)}, ${message}`,
        { input_name: name, input_config: inputConfig(spec), received_value: value, exception_message: message });
    }
    if (typeof coerced !== 'number') return undefined;
    const min = opts['min'];
    const max = opts['max'];
    if (typeof min === 'number' && coerced < min) {
      return reason('value_smaller_than_min', `Value ${pyNumber(coerced, type)} smaller than min of ${pyNumber(min, type)}`,
        name, { input_name: name, input_config: inputConfig(spec), received_value: value });
    }
    if (typeof max === 'number' && coerced > max) {
      return reason('value_bigger_than_max', `Value ${pyNumber(coerced, type)} bigger than max of ${pyNumber(max, type)}`,
        name, { input_name: name, input_config: inputConfig(spec), received_value: value });
    }
    return undefined;
  }
}

/**
 * Validate a `prompt` the way ComfyUI does. The caller has already checked that `prompt` is a JSON object
 * (ComfyUI answers 500 otherwise).
 */
export function validatePrompt(prompt: Record<string, unknown>, ctx: ValidationContext): ValidationResult {
  for (const [id, node] of Object.entries(prompt)) {
    const classType = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)['class_type'] : undefined;
    if (typeof classType !== 'string') {
      return graphError('invalid_prompt', 'Cannot execute because a node is missing the class_type property.', `Node ID '#${id}'`);
    }
    if (!ctx.info[classType]) {
      return ctx.missingNodeType
        ? graphError('missing_node_type', `Node '${classType}' not found. The custom node may not be installed.`,
            `Node ID '#${id}'`, { node_id: id, class_type: classType, node_title: classType })
        : graphError('invalid_prompt', `Cannot execute because node ${classType} does not exist.`, `Node ID '#${id}'`);
    }
    const inputs = (node as Record<string, unknown>)['inputs'];
    if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) (node as Record<string, unknown>)['inputs'] = {};
  }
  const graph = prompt as Prompt;
  const outputs = Object.keys(graph).filter(
    (id) => ctx.info[graph[id]!.class_type]?.output_node === true && (!ctx.partialTargets || ctx.partialTargets.includes(id)),
  );
  if (outputs.length === 0) return graphError('prompt_no_outputs', 'Prompt has no outputs', '');

  const validator = new Validator(graph, ctx);
  const good: string[] = [];
  const failed: string[] = [];
  const topLevel = new Map<string, Reason>();
  for (const id of outputs) {
    try {
      (validator.validate(id) ? good : failed).push(id);
    } catch (error) {
      if (!(error instanceof PyException)) throw error;
      failed.push(id);
      topLevel.set(id, reason('exception_during_validation', 'Exception when validating node', error.message, {
        exception_type: error.pyType, traceback: [error.frame],
      }));
    }
  }

  const nodeErrors: Record<string, NodeErrorEntry> = {};
  const entryFor = (id: string): NodeErrorEntry =>
    (nodeErrors[id] ??= { errors: [], dependent_outputs: [], class_type: graph[id]!.class_type });
  for (const output of failed) {
    const top = topLevel.get(output);
    if (top) entryFor(output).errors.push(top);
    for (const id of validator.upstreamOf(output)) {
      const result = validator.results.get(id);
      if (!result || result.reasons.length === 0) continue;
      const entry = entryFor(id);
      if (entry.errors.length === 0) entry.errors.push(...result.reasons);
      entry.dependent_outputs.push(output);
    }
  }
  if (good.length === 0) {
    return { ok: false, body: { error: reason('prompt_outputs_failed_validation', 'Prompt outputs failed validation', '', {}), node_errors: nodeErrors } };
  }
  return { ok: true, prompt: graph, outputs: good, nodeErrors };
}
