// Reading ComfyUI's saved (UI-format) workflow into plain typed data: nodes, their slots and widget values, the
// links (both the array form of older files and the object form of newer ones) and the subgraph definitions.
// Nothing is interpreted here; every later step works on these types instead of on loose JSON.
import { isRecord } from '../workflow.js';

/** Litegraph's node modes that change what is sent: 2 is "Mute" (never runs), 4 is "Bypass". */
export const MODE_MUTED = 2;
export const MODE_BYPASSED = 4;

export interface UiInput {
  name: string;
  type: string;
  /** The link key feeding this slot, or null. */
  link: string | null;
  /** Set when this slot is a widget converted to an input. */
  widget?: string;
}

export interface UiOutput {
  name: string;
  type: string;
}

export interface UiNode {
  id: string;
  type: string;
  mode: number;
  title?: string;
  inputs: UiInput[];
  outputs: UiOutput[];
  /** A list in widget order, or (some custom nodes) an object keyed by widget name. */
  widgetsValues?: unknown[] | Record<string, unknown>;
}

export interface UiLink {
  origin: string;
  originSlot: number;
  target: string;
  targetSlot: number;
  type: string;
}

export interface UiGraph {
  nodes: Map<string, UiNode>;
  links: Map<string, UiLink>;
}

export interface SubgraphSlot {
  name: string;
  type: string;
}

export interface SubgraphDefinition {
  id: string;
  name: string;
  graph: UiGraph;
  inputs: SubgraphSlot[];
  outputs: SubgraphSlot[];
}

export interface UiWorkflow {
  graph: UiGraph;
  subgraphs: Map<string, SubgraphDefinition>;
}

/** The file is not a UI-format workflow, or is one too broken to read; the message is one line for the user. */
export class WorkflowReadError extends Error {
  override readonly name = 'WorkflowReadError';
}

/** Node ids of the subgraph's boundary pseudo-nodes, as the frontend saves them. */
export const SUBGRAPH_INPUT_NODE = '-10';
export const SUBGRAPH_OUTPUT_NODE = '-20';

export function isUiWorkflow(value: unknown): value is Record<string, unknown> {
  return isRecord(value) && Array.isArray(value.nodes);
}

export function readUiWorkflow(value: unknown): UiWorkflow {
  if (!isUiWorkflow(value)) throw new WorkflowReadError('not a ComfyUI workflow: expected a "nodes" list (UI format) or node id → {class_type, inputs} (API format)');
  const subgraphs = new Map<string, SubgraphDefinition>();
  const definitions = isRecord(value.definitions) && Array.isArray(value.definitions.subgraphs) ? value.definitions.subgraphs : [];
  for (const [index, raw] of definitions.entries()) {
    if (!isRecord(raw) || typeof raw.id !== 'string') throw new WorkflowReadError(`subgraph definition #${index + 1} has no id`);
    const name = typeof raw.name === 'string' ? raw.name : raw.id;
    subgraphs.set(raw.id, {
      id: raw.id,
      name,
      graph: readGraph(raw, `subgraph "${name}"`),
      inputs: slots(raw.inputs),
      outputs: slots(raw.outputs),
    });
  }
  return { graph: readGraph(value, 'workflow'), subgraphs };
}

function readGraph(raw: Record<string, unknown>, where: string): UiGraph {
  if (!Array.isArray(raw.nodes)) throw new WorkflowReadError(`${where} has no "nodes" list`);
  const nodes = new Map<string, UiNode>();
  for (const [index, entry] of raw.nodes.entries()) {
    const node = readNode(entry);
    if (!node) throw new WorkflowReadError(`${where}: node #${index + 1} has no id or type`);
    if (nodes.has(node.id)) throw new WorkflowReadError(`${where}: node id ${node.id} is used twice`);
    nodes.set(node.id, node);
  }
  const links = new Map<string, UiLink>();
  for (const entry of Array.isArray(raw.links) ? raw.links : []) {
    const link = readLink(entry);
    if (link) links.set(link[0], link[1]);
  }
  return { nodes, links };
}

function readNode(raw: unknown): UiNode | undefined {
  if (!isRecord(raw) || !isId(raw.id) || typeof raw.type !== 'string') return undefined;
  const node: UiNode = {
    id: String(raw.id),
    type: raw.type,
    mode: typeof raw.mode === 'number' ? raw.mode : 0,
    inputs: (Array.isArray(raw.inputs) ? raw.inputs : []).filter(isRecord).map((input) => ({
      name: typeof input.name === 'string' ? input.name : '',
      type: typeof input.type === 'string' ? input.type : '*',
      link: isId(input.link) ? String(input.link) : null,
      ...(isRecord(input.widget) && typeof input.widget.name === 'string' && { widget: input.widget.name }),
    })),
    outputs: (Array.isArray(raw.outputs) ? raw.outputs : []).filter(isRecord).map((output) => ({
      name: typeof output.name === 'string' ? output.name : '',
      type: typeof output.type === 'string' ? output.type : '*',
    })),
  };
  if (typeof raw.title === 'string') node.title = raw.title;
  if (Array.isArray(raw.widgets_values) || isRecord(raw.widgets_values)) node.widgetsValues = raw.widgets_values;
  return node;
}

/** `[id, origin, originSlot, target, targetSlot, type]` (version 0.4) or `{id, origin_id, …}` (version 1, subgraphs). */
function readLink(raw: unknown): [string, UiLink] | undefined {
  const fields = Array.isArray(raw)
    ? raw
    : isRecord(raw)
      ? [raw.id, raw.origin_id, raw.origin_slot, raw.target_id, raw.target_slot, raw.type]
      : [];
  const [id, origin, originSlot, target, targetSlot, type] = fields as unknown[];
  if (!isId(id) || !isId(origin) || !isId(target) || typeof originSlot !== 'number' || typeof targetSlot !== 'number') return undefined;
  return [String(id), { origin: String(origin), originSlot, target: String(target), targetSlot, type: typeof type === 'string' ? type : '*' }];
}

function slots(raw: unknown): SubgraphSlot[] {
  return (Array.isArray(raw) ? raw : []).filter(isRecord).map((slot) => ({
    name: typeof slot.name === 'string' ? slot.name : '',
    type: typeof slot.type === 'string' ? slot.type : '*',
  }));
}

function isId(value: unknown): value is string | number {
  return (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && value.length > 0);
}
