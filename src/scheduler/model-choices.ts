// The models a job left to its command's preference (`default: {prefer: [...], else: first}`), seen per backend:
// whether the backend can resolve them at all, whether it has a preferred one (routing prefers those), and the
// spec bound for it when the job is dispatched there.
import { isBound, type BoundSpec, type JobSpec } from '../jobs/job.js';
import { bindChoices, resolvePreference, type ChoiceResolution, type PendingChoice } from '../templates/model-choice.js';
import type { Inventory } from './requirements.js';

/** A folder's files as the backend lists them; undefined when it cannot list them (every model assumed). */
function listed(inventory: Inventory, folder: string): readonly string[] | undefined {
  return inventory.unchecked ? undefined : (inventory.folders.get(folder) ?? []);
}

function resolutions(inventory: Inventory, choices: readonly PendingChoice[]): ChoiceResolution[] | null {
  const out: ChoiceResolution[] = [];
  for (const choice of choices) {
    const resolution = resolvePreference(choice.preference, listed(inventory, choice.folder));
    if (!resolution) return null;
    out.push(resolution);
  }
  return out;
}

/**
 * How a backend fits the choices: null when it cannot resolve one of them (nothing in the folder, or none of the
 * preferred names and no fallback); `preferred` when every one gets a preferred name there.
 */
export function choiceFit(inventory: Inventory, choices: readonly PendingChoice[]): { preferred: boolean } | null {
  const resolved = resolutions(inventory, choices);
  return resolved && { preferred: resolved.every((r) => r.how === 'preferred') };
}

/** Why none of these backends can resolve one of the choices, or null when each choice resolves somewhere. */
export function whyNoChoice(inventories: readonly Inventory[], choices: readonly PendingChoice[]): string | null {
  for (const choice of choices) {
    if (inventories.some((inv) => resolvePreference(choice.preference, listed(inv, choice.folder)) !== null)) continue;
    const { option, folder, preference } = choice;
    if (preference.fallback === 'first' || preference.prefer.length === 0) return `no backend has a model in models/${folder} (for "${option}")`;
    return `no backend has ${preference.prefer.join(' or ')} in models/${folder} (for "${option}")`;
  }
  return null;
}

/**
 * The spec as this backend runs it: each pending choice resolved from the backend's lists, bound into the workflow
 * and added to the params; `chosen` is what was resolved (null when nothing was pending). Only call it for a
 * backend choiceFit accepted.
 */
export function boundFor(spec: Readonly<JobSpec>, inventory: Inventory): { spec: BoundSpec; chosen: Record<string, string> | null } {
  if (isBound(spec)) return { spec, chosen: null };
  const choices = spec.choices as readonly PendingChoice[];
  const resolved = resolutions(inventory, choices);
  if (!resolved) throw new Error(`job ${spec.id ?? '(new)'}: a model choice cannot be resolved on the backend it was dispatched to`);
  const chosen = Object.fromEntries(choices.map((choice, index) => [choice.option, (resolved[index] as ChoiceResolution).value]));
  const { choices: _pending, ...rest } = spec;
  return { spec: { ...rest, workflow: bindChoices(spec.workflow, choices, chosen), params: { ...spec.params, ...chosen } }, chosen };
}
