// A model picker's preference default (`default: {prefer: [...], else: first}`): which model a job uses when the
// member picked none depends on the backend it runs on, so it is resolved there, at dispatch, from that
// backend's model list. `comfycord check --server` resolves it the same way against one server.
import type { ApiWorkflow } from '../comfy/types.js';
import type { ResolvedTarget } from './targets.js';

export interface ModelPreference {
  /** Tried in order; the first one the backend lists is used. May be empty (then only the fallback). */
  prefer: readonly string[];
  /** `first`: when none of `prefer` is listed, the first model the backend lists (ComfyUI's own order). */
  fallback: 'first' | null;
}

/**
 * A model option the member left unset whose command declares a preference: the job carries it unresolved until
 * the scheduler picks a backend, which binds the resolved name at `target` (see bindChoices).
 */
export interface PendingChoice {
  option: string;
  /** The model folder listed by the backend (`choices_from: models/<folder>`). */
  folder: string;
  target: ResolvedTarget;
  preference: ModelPreference;
}

export interface ChoiceResolution {
  value: string;
  /** `preferred`: one of the preferred names; `first-listed`: the fallback. */
  how: 'preferred' | 'first-listed';
  /** The preferred names tried before it that the backend does not have. */
  absent: readonly string[];
}

/**
 * The model a backend whose `folder` lists `listed` would use, or null when it has none that fits (an empty folder,
 * or none of the preferred names and no fallback). `listed` undefined: a backend that cannot list its models (a v2
 * endpoint without discovery) is assumed to have the first preferred name and nothing else is known.
 */
export function resolvePreference(preference: ModelPreference, listed: readonly string[] | undefined): ChoiceResolution | null {
  if (listed === undefined) {
    const first = preference.prefer[0];
    return first === undefined ? null : { value: first, how: 'preferred', absent: [] };
  }
  const present = new Set(listed);
  const index = preference.prefer.findIndex((name) => present.has(name));
  if (index >= 0) return { value: preference.prefer[index] as string, how: 'preferred', absent: preference.prefer.slice(0, index) };
  const first = listed[0];
  if (preference.fallback === 'first' && first !== undefined) return { value: first, how: 'first-listed', absent: preference.prefer };
  return null;
}

/** Why it resolved so, in words: "preferred", "preferred; a.safetensors absent", "first listed; none of a, b present". */
export function resolutionReason(resolution: ChoiceResolution): string {
  const absent = resolution.absent.join(', ');
  if (resolution.how === 'preferred') return absent === '' ? 'preferred' : `preferred; ${absent} absent`;
  return absent === '' ? 'first listed' : `first listed; none of ${absent} present`;
}

/** Why a server with this list cannot resolve the preference (resolvePreference returned null). */
export function unresolvableReason(preference: ModelPreference, folder: string, listed: readonly string[] | undefined): string {
  if (listed === undefined) return `models/${folder} cannot be listed there and no preferred name is given`;
  if (listed.length === 0) return `models/${folder} is empty`;
  return `none of ${preference.prefer.join(', ')} is in models/${folder} (and no "else: first")`;
}

/** A copy of `workflow` with each pending choice's target set to its chosen name (every choice must have one). */
export function bindChoices(workflow: Readonly<ApiWorkflow>, choices: readonly PendingChoice[], chosen: Readonly<Record<string, string>>): ApiWorkflow {
  const bound = structuredClone(workflow) as ApiWorkflow;
  for (const choice of choices) {
    const value = Object.hasOwn(chosen, choice.option) ? chosen[choice.option] : undefined;
    const node = bound[choice.target.nodeId];
    if (value === undefined) throw new Error(`bindChoices: no model chosen for option "${choice.option}"`);
    if (!node) throw new Error(`bindChoices: target node ${choice.target.nodeId} of option "${choice.option}" is not in the workflow`);
    node.inputs[choice.target.input] = value;
  }
  return bound;
}
