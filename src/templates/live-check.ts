// Checking a command against a live server's object_info and model folders: the node classes are installed,
// the inputs exist, and every value the template or command file fixes is one the server will accept.
import type { ChoiceList, CommandDefinition, OptionDefinition, Scalar } from './definition.js';
import { optionTargets } from './definition.js';
import type { Problem } from './errors.js';
import { resolutionReason, resolvePreference, unresolvableReason } from './model-choice.js';
import { comboOptions, inputSpec, nodeInfoFrom, type InputSpec, type NodeInfo, type ServerInfo } from './server-info.js';
import type { ResolvedTarget } from './targets.js';
import { isLink, nodeLabel } from './workflow.js';

export async function checkAgainstServer(command: CommandDefinition, server: ServerInfo): Promise<Problem[]> {
  const problems: Problem[] = [];
  const report = (message: string, option?: string): void => {
    problems.push(option === undefined ? { file: command.file, message } : { file: command.file, option, message });
  };
  const infos = new Map<string, NodeInfo | undefined>();
  for (const [id, node] of Object.entries(command.workflow)) {
    if (!infos.has(node.class_type)) infos.set(node.class_type, nodeInfoFrom(await server.objectInfo(node.class_type), node.class_type));
    const info = infos.get(node.class_type);
    if (!info) {
      report(`${nodeLabel(command.workflow, id)}: node class ${node.class_type} is not installed on the server`);
      continue;
    }
    const overwritten = alwaysOverwritten(command, id);
    for (const [input, value] of Object.entries(node.inputs)) {
      const spec = inputSpec(info, input);
      if (!spec) {
        report(`${nodeLabel(command.workflow, id)}: the server's ${node.class_type} has no input "${input}"`);
        continue;
      }
      if (isLink(value) || overwritten.has(input)) continue;
      const reason = valueProblem(spec, value);
      if (reason) report(`${nodeLabel(command.workflow, id)} input "${input}": ${reason}`);
    }
  }
  for (const option of command.options) {
    for (const message of await optionProblems(command, option, infos, server)) report(message, option.name);
  }
  return problems;
}

/**
 * Inputs every job writes, whose template value therefore never reaches the server: the option checks below judge
 * the values written instead (the default, a hidden value, each fixed choice, or the user's value within the range).
 */
function alwaysOverwritten(command: CommandDefinition, nodeId: string): Set<string> {
  const inputs = new Set<string>();
  for (const option of command.options) {
    for (const target of alwaysWritten(option)) if (target.nodeId === nodeId) inputs.add(target.input);
  }
  return inputs;
}

/** The targets an option writes in every job: all of them (the compiler makes each fixed choice write every
 * target) when it is always set, by being required, hidden or defaulted; none otherwise. */
function alwaysWritten(option: OptionDefinition): ResolvedTarget[] {
  // An optional image with bypass_if_missing is written, or its node dropped, in every job.
  const alwaysSet = option.required || option.hidden || (option.type === 'image' ? option.bypassIfMissing !== undefined : option.default !== undefined);
  return alwaysSet ? optionTargets(option) : [];
}

async function optionProblems(
  command: CommandDefinition,
  option: OptionDefinition,
  infos: Map<string, NodeInfo | undefined>,
  server: ServerInfo,
): Promise<string[]> {
  const specOf = (target: ResolvedTarget): InputSpec | undefined => {
    const info = infos.get(command.workflow[target.nodeId]?.class_type ?? '');
    return info && inputSpec(info, target.input);
  };
  const problems: string[] = [];
  const checkFixed = (target: ResolvedTarget, value: Scalar, what: string): void => {
    const spec = specOf(target);
    const reason = spec && valueProblem(spec, value);
    if (reason) problems.push(`${what} for ${target.ref}: ${reason}`);
  };
  switch (option.type) {
    case 'integer':
    case 'number': {
      const spec = specOf(option.target);
      const bounds = spec && numericBounds(spec);
      // A hidden option's range is never used: only its fixed value (checked below) reaches the server.
      if (bounds && !option.hidden) {
        const { min: lowest, max: highest } = option;
        if (bounds.min !== undefined && (lowest === undefined || Number(lowest) < bounds.min)) {
          problems.push(`min ${lowest ?? '(none)'} allows values below the server's minimum ${bounds.min} for ${option.target.ref}`);
        }
        if (bounds.max !== undefined && (highest === undefined || Number(highest) > bounds.max)) {
          problems.push(`max ${highest ?? '(none)'} allows values above the server's maximum ${bounds.max} for ${option.target.ref}`);
        }
      }
      if (option.default !== undefined && option.default !== 'random') {
        checkFixed(option.target, typeof option.default === 'bigint' ? option.default.toString() : option.default, 'default');
      }
      break;
    }
    case 'string':
    case 'boolean':
      if (option.default !== undefined) checkFixed(option.target, option.default, 'default');
      break;
    case 'choice': {
      const source = option.source;
      if (source.kind === 'fixed') {
        for (const choice of source.choices) for (const write of choice.writes) checkFixed(write.target, write.value, `choice "${choice.name}"`);
        break;
      }
      const listed = await liveList(source, server);
      if (typeof listed === 'string') problems.push(listed);
      else if (typeof option.default === 'string' && !listed.includes(option.default)) {
        problems.push(`default "${option.default}" is not in the server's list (${preview(listed)})`);
      } else if (typeof option.default === 'object' && source.kind === 'models' && resolvePreference(option.default, listed) === null) {
        problems.push(`default: ${unresolvableReason(option.default, source.folder, listed)}, so a job that does not pick one cannot run there`);
      }
      break;
    }
    case 'image':
      break;
  }
  return problems;
}

/** The model a preference default resolves to on one server, and why (see model-choice.ts). */
export interface ModelUse {
  option: string;
  value: string;
  reason: string;
}

/**
 * For each model option whose default is a preference, the model a job that leaves it unset would use on this
 * server; options it cannot resolve there are left out (checkAgainstServer reports them).
 */
export async function modelUsesOn(command: CommandDefinition, server: ServerInfo): Promise<ModelUse[]> {
  const uses: ModelUse[] = [];
  for (const option of command.options) {
    if (option.type !== 'choice' || option.source.kind !== 'models' || typeof option.default !== 'object') continue;
    const listed = await liveList(option.source, server);
    const resolution = typeof listed === 'string' ? null : resolvePreference(option.default, listed);
    if (resolution) uses.push({ option: option.name, value: resolution.value, reason: resolutionReason(resolution) });
  }
  return uses;
}

/** The live list behind a choices_from, or why it cannot be had. */
async function liveList(source: Exclude<ChoiceList, { kind: 'fixed' }>, server: ServerInfo): Promise<string[] | string> {
  if (source.kind === 'models') {
    try {
      return await server.models(source.folder);
    } catch (error) {
      return `choices_from models/${source.folder}: the server cannot list this model folder (${(error as Error).message})`;
    }
  }
  const info = nodeInfoFrom(await server.objectInfo(source.nodeClass), source.nodeClass);
  const where = `choices_from object_info/${source.nodeClass}/${source.input}`;
  if (!info) return `${where}: node class ${source.nodeClass} is not installed on the server`;
  const spec = inputSpec(info, source.input);
  const options = spec && comboOptions(spec);
  if (!options) return `${where}: ${source.nodeClass} has no list input "${source.input}"`;
  return options;
}

function numericBounds(spec: InputSpec): { min?: number; max?: number } | undefined {
  const [kind, opts] = spec;
  if (kind !== 'INT' && kind !== 'FLOAT') return undefined;
  return {
    ...(typeof opts?.min === 'number' && { min: opts.min }),
    ...(typeof opts?.max === 'number' && { max: opts.max }),
  };
}

/** Why the server would refuse `value` for an input of this spec, or undefined when it would accept it. */
export function valueProblem(spec: InputSpec, value: unknown): string | undefined {
  const options = comboOptions(spec);
  if (options) return options.includes(String(value)) ? undefined : `"${String(value)}" is not available on the server (${preview(options)})`;
  const [kind, opts] = spec;
  const min = typeof opts?.min === 'number' ? opts.min : undefined;
  const max = typeof opts?.max === 'number' ? opts.max : undefined;
  if (kind === 'INT') {
    const text = typeof value === 'number' || typeof value === 'string' ? String(value) : '';
    if (!/^-?\d+$/.test(text)) return `${JSON.stringify(value)} is not an integer`;
    const integer = BigInt(text);
    if (min !== undefined && integer < BigInt(Math.ceil(min))) return `${text} is below the minimum ${min}`;
    if (max !== undefined && integer > BigInt(Math.floor(max))) return `${text} is above the maximum ${max}`;
    return undefined;
  }
  if (kind === 'FLOAT') {
    if (typeof value !== 'number' || !Number.isFinite(value)) return `${JSON.stringify(value)} is not a number`;
    if (min !== undefined && value < min) return `${value} is below the minimum ${min}`;
    if (max !== undefined && value > max) return `${value} is above the maximum ${max}`;
    return undefined;
  }
  if (kind === 'BOOLEAN' && typeof value !== 'boolean') return `${JSON.stringify(value)} is not true or false`;
  if (kind === 'STRING' && typeof value !== 'string') return `${JSON.stringify(value)} is not text`;
  return undefined;
}

function preview(values: readonly string[]): string {
  if (values.length === 0) return 'the list is empty';
  const shown = values.slice(0, 5).map((value) => `"${value}"`).join(', ');
  return values.length > 5 ? `${values.length} choices, e.g. ${shown}` : `choices: ${shown}`;
}
