// A saved workflow (UI or API format) to the API format /prompt takes, following the rules of ComfyUI's frontend
// (see docs/ARCHITECTURE.md "templates/import"). Every node that cannot be converted is named with the reason;
// nothing is guessed silently.
import type { NodeInfo } from '../../comfy/http.js';
import type { ApiNode, ApiWorkflow, InputValue } from '../../comfy/types.js';
import { toApiWorkflow, WorkflowFormatError } from '../../comfy/workflow.js';
import { integerForWorkflow } from '../values.js';
import { isLink, isRecord } from '../workflow.js';
import { describeNode, PRIMITIVE, resolveLink } from './links.js';
import { flattenSubgraphs } from './subgraphs.js';
import { isUiWorkflow, MODE_BYPASSED, MODE_MUTED, readUiWorkflow, WorkflowReadError, type UiGraph, type UiNode } from './ui-graph.js';
import { mapWidgetValues } from './widgets.js';

/** The server's node descriptions, as `GET /object_info` returns them. */
export type Catalogue = Readonly<Record<string, NodeInfo>>;

export interface Conversion {
  format: 'ui' | 'api';
  workflow: ApiWorkflow;
  /** Nodes or inputs that could not be converted, one line each; a non-empty list means the result is unusable. */
  problems: string[];
  /** Things done that the user should know about (values filled in, syntax left as written). */
  notes: string[];
}

/** Input that is not a workflow at all; one line for the user. */
export class ImportError extends Error {
  override readonly name = 'ImportError';
}

/** Nodes the frontend keeps to itself: never sent to the server. */
const FRONTEND_ONLY = new Set(['Note', 'MarkdownNote', 'Reroute', PRIMITIVE]);
/** Group nodes of frontends before subgraphs ("workflow>Name"), whose contents live in the frontend's own format. */
const LEGACY_GROUP_NODE = /^workflow[>/]/;
const LEGACY_GROUP_HELP = 'a group node of older ComfyUI versions; in ComfyUI right-click it, choose "Convert to nodes" (or convert it to a subgraph) and save again';
/** `{a|b}` choices and comment lines of the frontend's dynamic prompts, which ComfyUI itself does not expand. */
export const DYNAMIC_PROMPT = /\{[^{}]*\|[^{}]*\}|^\s*\/\/|\/\*/m;

export function convertWorkflow(parsed: unknown, catalogue: Catalogue): Conversion {
  const conversion = isUiWorkflow(parsed) ? convertUi(parsed, catalogue) : passApi(parsed);
  const { workflow, problems } = conversion;
  for (const [id, node] of Object.entries(workflow)) {
    if (conversion.format === 'api' && !Object.hasOwn(catalogue, node.class_type)) problems.push(`${apiLabel(id, node)}: ${unknownClass(node.class_type)}`);
    for (const [input, value] of Object.entries(node.inputs)) {
      if (typeof value === 'string' && DYNAMIC_PROMPT.test(value)) {
        conversion.notes.push(`${apiLabel(id, node)} input "${input}" uses dynamic-prompt syntax ({a|b} or comments); it is kept as written and ComfyUI receives it verbatim`);
      }
    }
  }
  if (!Object.values(workflow).some((node) => catalogue[node.class_type]?.output_node === true)) {
    problems.push('the workflow has no output node (Save Image, Preview Image, Save Video, …) that is not muted or bypassed');
  }
  return conversion;
}

function passApi(parsed: unknown): Conversion {
  try {
    return { format: 'api', workflow: exactValues(toApiWorkflow(parsed)) as ApiWorkflow, problems: [], notes: [] };
  } catch (error) {
    if (error instanceof WorkflowFormatError) throw new ImportError('not a ComfyUI workflow: expected a "nodes" list (UI format) or node id → {class_type, inputs} (API format)');
    throw error;
  }
}

function convertUi(parsed: unknown, catalogue: Catalogue): Conversion {
  let graph: UiGraph;
  try {
    graph = flattenSubgraphs(readUiWorkflow(parsed));
  } catch (error) {
    if (error instanceof WorkflowReadError) throw new ImportError(error.message);
    throw error;
  }
  const conversion: Conversion = { format: 'ui', workflow: {}, problems: [], notes: [] };
  for (const node of graph.nodes.values()) {
    if (node.mode === MODE_MUTED || node.mode === MODE_BYPASSED || FRONTEND_ONLY.has(node.type)) continue;
    const info = catalogue[node.type];
    if (!info) {
      conversion.problems.push(`${describeNode(node)}: ${LEGACY_GROUP_NODE.test(node.type) ? LEGACY_GROUP_HELP : unknownClass(node.type)}`);
      continue;
    }
    conversion.workflow[node.id] = convertNode(graph, node, info, conversion);
  }
  dropUnusedBranches(graph, conversion.workflow, catalogue);
  return conversion;
}

function convertNode(graph: UiGraph, node: UiNode, info: NodeInfo, conversion: Conversion): ApiNode {
  const inputs: Record<string, InputValue> = {};
  const mapped = mapWidgetValues(info, node.widgetsValues);
  // A list value is wrapped as the frontend does, so the server cannot mistake it for a link.
  for (const [name, value] of mapped.values) inputs[name] = (Array.isArray(value) ? { __value__: exactValues(value) } : exactValues(value)) as InputValue;
  const required = info.input.required ?? {};
  for (const input of node.inputs) {
    if (input.link === null) continue;
    const name = input.widget ?? input.name;
    const source = resolveLink(graph, input.link);
    if (source.kind === 'node') inputs[name] = [source.node, source.slot];
    else if (source.kind === 'value') inputs[name] = exactValues(source.value) as InputValue; // the primitive's value wins over the stale widget value
    else {
      delete inputs[name];
      if (Object.hasOwn(required, name)) conversion.problems.push(`${describeNode(node)} input "${name}": ${source.reason}`);
      else conversion.notes.push(`${describeNode(node)}: optional input "${name}" left unconnected because ${source.reason}`);
    }
  }
  // Only values that reach the server are worth a note; a linked input's saved value never does.
  const fed = new Set(node.inputs.filter((input) => input.link !== null).map((input) => input.widget ?? input.name));
  for (const name of mapped.defaulted.filter((name) => !fed.has(name))) {
    conversion.notes.push(`${describeNode(node)}: no saved value for "${name}", the server's default is used`);
  }
  for (const name of mapped.missing) {
    if (!(name in inputs)) conversion.problems.push(`${describeNode(node)}: no value for "${name}" in the file and the server declares no default`);
  }
  return { inputs, class_type: node.type, _meta: { title: node.title ?? info.display_name ?? node.type } };
}

/**
 * Nodes that only fed muted or bypassed nodes that lead nowhere: the frontend would send them, but they can no
 * longer reach an output, so they are dropped (ComfyUI would never run them).
 */
function dropUnusedBranches(graph: UiGraph, workflow: ApiWorkflow, catalogue: Catalogue): void {
  const skipped = [...graph.nodes.values()].filter((node) => node.mode === MODE_MUTED || node.mode === MODE_BYPASSED);
  const pending: string[] = [];
  for (const node of skipped) {
    for (const input of node.inputs) {
      if (input.link === null) continue;
      const source = resolveLink(graph, input.link);
      if (source.kind === 'node') pending.push(source.node);
    }
  }
  while (pending.length > 0) {
    const id = pending.pop() as string;
    const node = workflow[id];
    if (!node || catalogue[node.class_type]?.output_node === true) continue;
    const consumed = Object.values(workflow).some((other) => Object.values(other.inputs).some((value) => isLink(value) && value[0] === id));
    if (consumed) continue;
    delete workflow[id];
    for (const value of Object.values(node.inputs)) if (isLink(value)) pending.push(value[0]);
  }
}

/** Integers beyond 2^53-1 become decimal strings, as everywhere in comfycord (see values.ts). */
function exactValues(value: unknown): unknown {
  if (typeof value === 'bigint') return integerForWorkflow(value);
  if (Array.isArray(value)) return value.map(exactValues);
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, exactValues(inner)]));
  return value;
}

function unknownClass(type: string): string {
  return `node class ${type} is not on the server (a custom node that is not installed, or a frontend-only node)`;
}

function apiLabel(id: string, node: ApiNode): string {
  return node._meta?.title ? `node ${id} ("${node._meta.title}", ${node.class_type})` : `node ${id} (${node.class_type})`;
}
