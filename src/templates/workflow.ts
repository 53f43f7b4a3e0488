// Reading a template file: only the API format ("Export (API)") can be bound and submitted; the UI format is
// recognised so the admin gets told how to export the right one.
import type { ApiNode, ApiWorkflow, NodeLink } from '../comfy/types.js';
import { detectWorkflowFormat, UI_FORMAT_HELP } from '../comfy/workflow.js';
import { DefinitionError } from './errors.js';


/** Parses template text into an API-format workflow; accepts the `{"prompt": {...}}` wrapper too. */
export function parseApiWorkflow(text: string): ApiWorkflow {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DefinitionError(`template is not valid JSON: ${(error as Error).message}`);
  }
  if (!isRecord(parsed)) throw new DefinitionError('template must be a JSON object of node id → node');
  if (detectWorkflowFormat(parsed) === 'ui') throw new DefinitionError(UI_FORMAT_HELP);
  const graph = isRecord(parsed.prompt) && !isNode(parsed.prompt) ? parsed.prompt : parsed;
  const ids = Object.keys(graph);
  if (ids.length === 0) throw new DefinitionError('template has no nodes');
  for (const id of ids) {
    const node = graph[id];
    if (!isNode(node)) {
      throw new DefinitionError(
        `template entry "${id}" is not an API-format node (needs a string "class_type" and an "inputs" object)`,
      );
    }
  }
  return graph as ApiWorkflow;
}

function isNode(value: unknown): value is ApiNode {
  return isRecord(value) && typeof value.class_type === 'string' && isRecord(value.inputs);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A link `["<nodeId>", <outputIndex>]` as opposed to a literal value. */
export function isLink(value: unknown): value is NodeLink {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'number';
}

/**
 * The nodes whose outputs nothing else consumes: what "deliver all outputs" means when the command file does not
 * list output nodes (output nodes such as SaveImage are always sinks).
 */
export function sinkNodes(workflow: ApiWorkflow): string[] {
  const consumed = new Set<string>();
  for (const node of Object.values(workflow)) {
    for (const value of Object.values(node.inputs)) if (isLink(value)) consumed.add(value[0]);
  }
  return Object.keys(workflow).filter((id) => !consumed.has(id));
}

export function nodeLabel(workflow: ApiWorkflow, id: string): string {
  const title = workflow[id]?._meta?.title;
  return title ? `node ${id} ("${title}", ${workflow[id]?.class_type})` : `node ${id} (${workflow[id]?.class_type})`;
}

/** Freezes a parsed template so that code binding values on it instead of on a copy fails loudly. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
