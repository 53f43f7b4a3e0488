// An optional image that was not given: the node that mixes it in is bypassed (whatever it fed takes, instead,
// what one of its own inputs is linked to, as ComfyUI's "Bypass" does) and the nodes then left feeding nothing
// (the image's loader, say) are dropped, so no unbound input reaches the server. The command file names both the
// node and the input passed through; nothing here depends on a user's value.
import type { ApiWorkflow } from '../comfy/types.js';
import { DefinitionError } from './errors.js';
import { resolveNode } from './targets.js';
import { isLink, nodeLabel, sinkNodes } from './workflow.js';

/** `bypass_if_missing: <node>.<input>`, resolved: the node skipped and the link input passed through. */
export interface Bypass {
  ref: string;
  nodeId: string;
  input: string;
}

export function resolveBypass(workflow: ApiWorkflow, ref: string, imageNodeId: string): Bypass {
  const dot = ref.lastIndexOf('.');
  if (dot <= 0 || dot === ref.length - 1) throw new DefinitionError(`bypass_if_missing "${ref}" must be <node title, id or class>.<input name>`);
  const { nodeId } = resolveNode(workflow, ref.slice(0, dot));
  const input = ref.slice(dot + 1);
  const value = workflow[nodeId]?.inputs[input];
  if (!isLink(value)) {
    throw new DefinitionError(`bypass_if_missing "${ref}": input "${input}" of ${nodeLabel(workflow, nodeId)} must be a link (the input passed through)`);
  }
  const bypass = { ref, nodeId, input };
  // The image's own node must drop out with the bypass, else its unbound template value would reach the server.
  if (Object.hasOwn(withBypassed(workflow, [bypass]), imageNodeId)) {
    throw new DefinitionError(`bypass_if_missing "${ref}": ${nodeLabel(workflow, imageNodeId)} would still feed the workflow; bypass the node that takes the image`);
  }
  return bypass;
}

/** A copy of `workflow` with each bypass applied, then only the nodes that still feed one of its sinks. */
export function withBypassed(workflow: ApiWorkflow, bypasses: readonly Bypass[]): ApiWorkflow {
  const sinks = sinkNodes(workflow);
  const graph = structuredClone(workflow) as ApiWorkflow;
  for (const { nodeId, input } of bypasses) {
    const through = graph[nodeId]?.inputs[input];
    if (!isLink(through)) continue; // already bypassed by an earlier entry
    delete graph[nodeId];
    for (const node of Object.values(graph)) {
      for (const [name, value] of Object.entries(node.inputs)) if (isLink(value) && value[0] === nodeId) node.inputs[name] = [through[0], through[1]];
    }
  }
  const kept = new Set<string>();
  const visit = (id: string): void => {
    if (kept.has(id) || !graph[id]) return;
    kept.add(id);
    for (const value of Object.values(graph[id].inputs)) if (isLink(value)) visit(value[0]);
  };
  for (const sink of sinks) visit(sink);
  for (const id of Object.keys(graph)) if (!kept.has(id)) delete graph[id];
  return graph;
}
