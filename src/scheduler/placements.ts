// Where jobs can run: what a workflow needs (node classes, models, model choices left to the backend) and which
// backends' inventories offer it. Inventories change only with a backend's `inventory` event, so placements are
// worked out when a job arrives and kept for every job that needs the same, never per dispatch pass.
import type { JobSpec } from '../jobs/job.js';
import type { Backend } from './backend.js';
import { choiceFit, whyNoChoice } from './model-choices.js';
import { missingOn, requirementsOf, whyNowhere, type Requirements } from './requirements.js';

type Choices = NonNullable<JobSpec['choices']>;

/** What a job needs and which backends offer it. */
export interface Placement {
  requirements: Requirements;
  /** Models left to the command's preference, chosen on the backend at dispatch (model-choices.ts). */
  choices: Choices;
  /** Backends whose known inventory has every node and model the job uses, and a model for each choice. */
  canRunOn: ReadonlySet<Backend>;
  /** Those of canRunOn that have a preferred model for every choice: taken first when free. */
  preferredOn: ReadonlySet<Backend>;
}

/** Bounded for a bot whose members keep naming new models: a full map only costs the next jobs a recount. */
const MAX_PLACEMENTS = 256;

/** Jobs with equal keys need the same nodes and models and leave the same model choices to the backend. */
function placementKey(requirements: Requirements, choices: Choices): string {
  const choiceKeys = choices.map((c) => [c.option, c.folder, c.preference]);
  return JSON.stringify([[...requirements.nodeClasses], [...requirements.models], choiceKeys]);
}

export class Placements {
  /** Every model some backend has. */
  private knownModels: Set<string> | null = null;
  /**
   * Placements by what the job needs (placementKey): one command's jobs need the same nodes and models, so the
   * backends' inventories are read once per command rather than twice per job (its check and its submit).
   */
  private readonly byNeed = new Map<string, Placement>();

  constructor(private readonly backends: readonly Backend[]) {}

  /** Where a job of this workflow (and these model choices) can run, as the backends' inventories say now. */
  of(spec: Pick<JobSpec, 'workflow' | 'choices'>): Placement {
    const choices = spec.choices ?? [];
    const requirements = requirementsOf(spec.workflow, this.models(), choices.map((choice) => choice.target));
    const key = placementKey(requirements, choices);
    let placement = this.byNeed.get(key);
    if (!placement) {
      if (this.byNeed.size >= MAX_PLACEMENTS) this.byNeed.clear();
      placement = this.place(requirements, choices);
      this.byNeed.set(key, placement);
    }
    return placement;
  }

  /** Null when some backend can (or, its inventory unknown yet, might) run it; else why none can. */
  whyNowhere(placement: Placement): string | null {
    if (placement.canRunOn.size > 0) return null;
    const inventories = this.backends.map((b) => b.inventory);
    if (inventories.some((i) => i === undefined)) return null;
    const known = inventories as NonNullable<(typeof inventories)[number]>[];
    return (
      whyNowhere(known, placement.requirements) ??
      whyNoChoice(known, placement.choices) ??
      'no single backend has every node and model this workflow uses and a model for each choice'
    );
  }

  /** A backend's inventory changed: every placement (and the set of known models) is worked out again. */
  forget(): void {
    this.knownModels = null;
    this.byNeed.clear();
  }

  private place(requirements: Requirements, choices: Choices): Placement {
    const canRunOn = new Set<Backend>();
    const preferredOn = new Set<Backend>();
    for (const b of this.backends) {
      if (!b.inventory || missingOn(b.inventory, requirements) !== null) continue;
      const fit = choiceFit(b.inventory, choices);
      if (fit) canRunOn.add(b);
      if (fit?.preferred) preferredOn.add(b);
    }
    return { requirements, choices, canRunOn, preferredOn };
  }

  private models(): ReadonlySet<string> {
    if (this.knownModels) return this.knownModels;
    const all = new Set<string>();
    for (const b of this.backends) for (const m of b.inventory?.models ?? []) all.add(m);
    this.knownModels = all;
    return all;
  }
}
