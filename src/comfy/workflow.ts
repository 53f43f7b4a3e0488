// Workflow files as people hand them to us: API format (what /prompt takes), the `{prompt: ...}` request
// wrapper, or — by mistake — the UI format that ComfyUI's plain "Save" writes.
import { isObject } from './messages.js';
import type { ApiWorkflow } from './types.js';

export type WorkflowFormat = 'api' | 'api-wrapped' | 'ui' | 'unknown';

/** Said wherever a UI-format file is handed in (the CLI's workflow files, the bot's templates). */
export const UI_FORMAT_HELP =
  'this is a UI-format workflow (it has "nodes" and "links"); in ComfyUI open it and use Workflow → Export (API) ' +
  '(enable the dev mode options in the settings on older versions), then use that file instead';

export class WorkflowFormatError extends Error {
  override name = 'WorkflowFormatError';
}


function isApiGraph(value: unknown): value is ApiWorkflow {
  if (!isObject(value)) return false;
  const nodes = Object.values(value);
  return nodes.length > 0 && nodes.every((node) => isObject(node) && typeof node.class_type === 'string' && (node.inputs === undefined || isObject(node.inputs)));
}

export function detectWorkflowFormat(value: unknown): WorkflowFormat {
  if (isObject(value) && (Array.isArray(value.nodes) || Array.isArray(value.links))) return 'ui';
  if (isApiGraph(value)) return 'api';
  if (isObject(value) && isApiGraph(value.prompt)) return 'api-wrapped';
  return 'unknown';
}

/** The API-format graph inside `value`, or a WorkflowFormatError that says what to do instead. */
export function toApiWorkflow(value: unknown): ApiWorkflow {
  const format = detectWorkflowFormat(value);
  if (format === 'api') return normalise(value as ApiWorkflow);
  if (format === 'api-wrapped') return normalise((value as { prompt: ApiWorkflow }).prompt);
  if (format === 'ui') throw new WorkflowFormatError(UI_FORMAT_HELP);
  if (isObject(value)) {
    const bad = Object.entries(value).find(([, node]) => !isObject(node) || typeof node.class_type !== 'string');
    if (bad) throw new WorkflowFormatError(`not an API-format workflow: node "${bad[0]}" has no class_type`);
  }
  throw new WorkflowFormatError('not an API-format workflow: expected an object of nodes with class_type and inputs');
}

/** Nodes exported without any inputs omit the key; /prompt needs it. */
function normalise(workflow: ApiWorkflow): ApiWorkflow {
  const out: ApiWorkflow = {};
  for (const [id, node] of Object.entries(workflow)) out[id] = { ...node, inputs: node.inputs ?? {} };
  return out;
}
