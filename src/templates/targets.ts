// Resolving `<node>.<input>` references against a workflow. Nodes are named by title, id or class (in that
// order) so command files survive re-exports that renumber nodes; any ambiguity is an error, never a guess.
import type { ApiWorkflow } from '../comfy/types.js';
import { DefinitionError } from './errors.js';
import { isLink, nodeLabel } from './workflow.js';

export type MatchedBy = 'title' | 'id' | 'class';

export interface ResolvedNode {
  nodeId: string;
  matchedBy: MatchedBy;
}

/** One workflow input an option writes to. */
export interface ResolvedTarget extends ResolvedNode {
  /** The reference as written in the command file, for messages. */
  ref: string;
  input: string;
}

export function resolveNode(workflow: ApiWorkflow, ref: string): ResolvedNode {
  const ids = Object.keys(workflow);
  const byTitle = ids.filter((id) => workflow[id]?._meta?.title === ref);
  if (byTitle.length === 1) return { nodeId: byTitle[0] as string, matchedBy: 'title' };
  if (byTitle.length > 1) {
    throw new DefinitionError(`title "${ref}" is used by nodes ${byTitle.join(', ')}; name the node by its id instead`);
  }
  if (Object.hasOwn(workflow, ref)) return { nodeId: ref, matchedBy: 'id' };
  const byClass = ids.filter((id) => workflow[id]?.class_type === ref);
  if (byClass.length === 1) return { nodeId: byClass[0] as string, matchedBy: 'class' };
  if (byClass.length > 1) {
    throw new DefinitionError(
      `no node is titled "${ref}" and the class ${ref} is used by nodes ${byClass.join(', ')}; name one by title or id`,
    );
  }
  throw new DefinitionError(`no node in the template has the title, id or class "${ref}"`);
}

/** Resolves `Title.input` (the input name follows the last dot, so titles may contain dots). */
export function resolveTarget(workflow: ApiWorkflow, ref: string): ResolvedTarget {
  const dot = ref.lastIndexOf('.');
  if (dot <= 0 || dot === ref.length - 1) {
    throw new DefinitionError(`target "${ref}" must be <node title, id or class>.<input name>`);
  }
  const node = resolveNode(workflow, ref.slice(0, dot));
  const input = ref.slice(dot + 1);
  const inputs = (workflow[node.nodeId] as NonNullable<ApiWorkflow[string]>).inputs;
  const label = `${nodeLabel(workflow, node.nodeId)}, matched by ${node.matchedBy}`;
  if (!Object.hasOwn(inputs, input)) {
    const known = Object.keys(inputs).join(', ') || 'none';
    throw new DefinitionError(`target "${ref}": ${label} has no input "${input}" (its inputs: ${known})`);
  }
  const current = inputs[input];
  if (isLink(current)) {
    throw new DefinitionError(
      `target "${ref}": input "${input}" of ${label} is a link from node ${current[0]}; ` +
        'only literal inputs can be set (setting it would cut the graph)',
    );
  }
  return { ...node, ref, input };
}
