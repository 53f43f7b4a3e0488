// Where a linked input really gets its data once the frontend-only parts of a graph are gone: Reroutes are
// followed, a PrimitiveNode becomes its value, a bypassed node hands over the input of the output's type (the
// same slot first, as the frontend does), and a muted node yields nothing.
import { MODE_BYPASSED, MODE_MUTED, type UiGraph, type UiNode } from './ui-graph.js';

export type Source =
  | { kind: 'node'; node: string; slot: number }
  | { kind: 'value'; value: unknown; from: string }
  | { kind: 'none'; reason: string };

/** Pass-through nodes that exist only in the frontend. */
const PASS_THROUGH = new Set(['Reroute']);
export const PRIMITIVE = 'PrimitiveNode';

export function resolveLink(graph: UiGraph, key: string): Source {
  const seen = new Set<string>();
  let current = key;
  for (;;) {
    if (seen.has(current)) return { kind: 'none', reason: 'its links form a loop through reroutes or bypassed nodes' };
    seen.add(current);
    const link = graph.links.get(current);
    if (!link) return { kind: 'none', reason: `link ${current} is missing from the file` };
    const origin = graph.nodes.get(link.origin);
    if (!origin) return { kind: 'none', reason: `its source, node ${link.origin}, is not in the file (an unconnected subgraph output?)` };
    if (origin.mode === MODE_MUTED) return { kind: 'none', reason: `its source, ${describeNode(origin)}, is muted` };
    if (origin.type === PRIMITIVE) {
      const values = origin.widgetsValues;
      if (!Array.isArray(values) || values.length === 0) return { kind: 'none', reason: `its source, ${describeNode(origin)}, holds no value` };
      return { kind: 'value', value: values[0], from: origin.id };
    }
    let next: string | null | undefined;
    if (PASS_THROUGH.has(origin.type)) {
      next = origin.inputs[0]?.link;
      if (next === null || next === undefined) return { kind: 'none', reason: `its source, ${describeNode(origin)}, has no input connected` };
    } else if (origin.mode === MODE_BYPASSED) {
      const type = origin.outputs[link.originSlot]?.type ?? link.type;
      next = bypassInput(origin, link.originSlot, type);
      if (next === undefined) return { kind: 'none', reason: `its source, ${describeNode(origin)}, is bypassed and has no connected ${type} input to pass on` };
    } else {
      return { kind: 'node', node: origin.id, slot: link.originSlot };
    }
    current = next;
  }
}

/** The link a bypassed node passes on for an output of `type`: the input in the same slot if its type matches, else the first that does. */
function bypassInput(node: UiNode, slot: number, type: string): string | undefined {
  const same = node.inputs[slot];
  const candidates = same && typesMatch(same.type, type) ? [same, ...node.inputs] : node.inputs;
  return candidates.find((input) => input.link !== null && typesMatch(input.type, type))?.link ?? undefined;
}

function typesMatch(a: string, b: string): boolean {
  if (a === '*' || b === '*' || a === b) return true;
  const accepted = new Set(b.split(','));
  return a.split(',').some((type) => accepted.has(type));
}

export function describeNode(node: UiNode): string {
  return node.title && node.title !== node.type ? `node ${node.id} ("${node.title}", ${node.type})` : `node ${node.id} (${node.type})`;
}
