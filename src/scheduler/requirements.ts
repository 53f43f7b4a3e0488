// What a workflow needs from a backend: its node classes, and its model files. A model is a string input
// that is in some backend's model folder lists, or that has a model file extension (so a model installed
// nowhere is still noticed).
import type { ApiWorkflow } from '../comfy/types.js';

export interface Requirements {
  nodeClasses: ReadonlySet<string>;
  models: ReadonlySet<string>;
}

/** What one backend offers, from its `/object_info` and model folders. */
export interface Inventory {
  nodeClasses: ReadonlySet<string>;
  models: ReadonlySet<string>;
  /** Each model folder's files in the order the backend lists them (model choices resolve against these). */
  folders: ReadonlyMap<string, readonly string[]>;
  /** Set when the backend cannot be asked (a v2 endpoint without discovery): every node and model is assumed. */
  unchecked?: true;
}

/** A set that claims every member and lists none: the inventory of a backend whose nodes cannot be checked. */
class AnySet extends Set<string> {
  override has(): boolean {
    return true;
  }
}

export const UNCHECKED_INVENTORY: Inventory = { nodeClasses: new AnySet(), models: new AnySet(), folders: new Map(), unchecked: true };

const MODEL_EXTENSIONS = /\.(safetensors|sft|ckpt|pt|pth|bin|gguf|onnx)$/i;

/** An input whose value the workflow does not require: it is chosen per backend at dispatch (model-choices.ts). */
export interface UnboundInput {
  nodeId: string;
  input: string;
}

export function requirementsOf(workflow: ApiWorkflow, knownModels: ReadonlySet<string>, unbound: readonly UnboundInput[] = []): Requirements {
  const nodeClasses = new Set<string>();
  const models = new Set<string>();
  for (const [id, node] of Object.entries(workflow)) {
    nodeClasses.add(node.class_type);
    for (const [input, value] of Object.entries(node.inputs)) {
      if (unbound.some((u) => u.nodeId === id && u.input === input)) continue;
      if (typeof value === 'string' && (knownModels.has(value) || MODEL_EXTENSIONS.test(value))) models.add(value);
    }
  }
  return { nodeClasses, models };
}

/** The first thing this backend lacks, in words, or null when it can run the workflow. */
export function missingOn(inventory: Inventory, req: Requirements): string | null {
  for (const c of req.nodeClasses) if (!inventory.nodeClasses.has(c)) return `node ${c} is not installed`;
  for (const m of req.models) if (!inventory.models.has(m)) return `model ${m} is not installed`;
  return null;
}

/**
 * Why no backend of `inventories` can run the workflow: a node or model installed nowhere is named;
 * otherwise the backends each lack something. Null when one of them can.
 */
export function whyNowhere(inventories: readonly Inventory[], req: Requirements): string | null {
  if (inventories.some((inv) => missingOn(inv, req) === null)) return null;
  for (const c of req.nodeClasses) {
    if (!inventories.some((inv) => inv.nodeClasses.has(c))) return `node ${c} is not installed on any backend`;
  }
  for (const m of req.models) {
    if (!inventories.some((inv) => inv.models.has(m))) return `model ${m} is not installed on any backend`;
  }
  return 'no single backend has every node and model this workflow uses';
}
