// Subgraphs flattened into one graph, as the frontend does before building a prompt: each inner node gets the
// stable id "<instance id>:<inner id>" (nested: "5:7:3"), links through the subgraph's input and output pseudo-
// nodes are joined to the links outside, and a muted or bypassed instance passes its mode to what it contains.
import { PRIMITIVE } from './links.js';
import {
  SUBGRAPH_INPUT_NODE,
  SUBGRAPH_OUTPUT_NODE,
  WorkflowReadError,
  type SubgraphDefinition,
  type UiGraph,
  type UiLink,
  type UiNode,
  type UiWorkflow,
} from './ui-graph.js';

export function flattenSubgraphs(workflow: UiWorkflow): UiGraph {
  return expand(workflow.graph, '', workflow.subgraphs, []);
}

function expand(graph: UiGraph, prefix: string, definitions: ReadonlyMap<string, SubgraphDefinition>, within: string[]): UiGraph {
  // The boundary pseudo-node ids stay bare so the level above can recognise and join them.
  const scoped = (id: string): string => (id === SUBGRAPH_INPUT_NODE || id === SUBGRAPH_OUTPUT_NODE ? id : prefix + id);
  const nodes = new Map<string, UiNode>();
  const links = new Map<string, UiLink>();
  for (const [key, link] of graph.links) links.set(prefix + key, { ...link, origin: scoped(link.origin), target: scoped(link.target) });
  for (const node of graph.nodes.values()) {
    const inputs = node.inputs.map((input) => ({ ...input, link: input.link === null ? null : prefix + input.link }));
    nodes.set(prefix + node.id, { ...node, id: prefix + node.id, inputs });
  }
  for (const instance of [...nodes.values()]) {
    const definition = definitions.get(instance.type);
    if (definition) inline(instance, definition, nodes, links, definitions, within);
  }
  return { nodes, links };
}

function inline(
  instance: UiNode,
  definition: SubgraphDefinition,
  nodes: Map<string, UiNode>,
  links: Map<string, UiLink>,
  definitions: ReadonlyMap<string, SubgraphDefinition>,
  within: string[],
): void {
  if (within.includes(definition.id)) throw new WorkflowReadError(`subgraph "${definition.name}" contains itself`);
  const inner = expand(definition.graph, `${instance.id}:`, definitions, [...within, definition.id]);
  nodes.delete(instance.id);
  for (const node of inner.nodes.values()) nodes.set(node.id, instance.mode !== 0 && node.mode === 0 ? { ...node, mode: instance.mode } : node);

  // What feeds the instance's k-th input from outside, if anything.
  const feeding = (slot: number): UiLink | undefined => {
    const key = instance.inputs[slot]?.link;
    return key === null || key === undefined ? undefined : links.get(key);
  };
  const exits = new Map<number, UiLink>();
  for (const [key, link] of inner.links) {
    if (link.target === SUBGRAPH_OUTPUT_NODE) {
      exits.set(link.targetSlot, link);
      continue;
    }
    if (link.origin !== SUBGRAPH_INPUT_NODE) {
      links.set(key, link);
      continue;
    }
    const outer = feeding(link.originSlot);
    const promoted = outer ? undefined : promotedValue(instance, link.originSlot);
    if (outer) links.set(key, { ...link, origin: outer.origin, originSlot: outer.originSlot });
    else if (promoted) {
      // The instance shows this input as a widget of its own: its value reaches the inner node, as a primitive would.
      const holder = `${instance.id}:input-${link.originSlot}`;
      nodes.set(holder, { id: holder, type: PRIMITIVE, mode: 0, inputs: [], outputs: [], widgetsValues: [promoted.value] });
      links.set(key, { ...link, origin: holder, originSlot: 0 });
    } else unlink(nodes.get(link.target), key); // nothing plugged in outside: the inner widget keeps its own value
  }
  for (const [key, link] of [...links]) {
    if (link.target === instance.id) links.delete(key);
    if (link.origin !== instance.id) continue;
    const exit = exits.get(link.originSlot);
    const source = exit?.origin === SUBGRAPH_INPUT_NODE ? feeding(exit.originSlot) : exit;
    // An output with nothing connected inside keeps pointing at the vanished instance, so the consumer is named.
    if (source) links.set(key, { ...link, origin: source.origin, originSlot: source.originSlot });
  }
}

/** The value the instance's own widget for input `slot` holds (widget values follow the widget inputs' order). */
function promotedValue(instance: UiNode, slot: number): { value: unknown } | undefined {
  const input = instance.inputs[slot];
  if (input?.widget === undefined || !Array.isArray(instance.widgetsValues)) return undefined;
  const index = instance.inputs.slice(0, slot).filter((other) => other.widget !== undefined).length;
  return index < instance.widgetsValues.length ? { value: instance.widgetsValues[index] } : undefined;
}

function unlink(node: UiNode | undefined, key: string): void {
  for (const input of node?.inputs ?? []) if (input.link === key) input.link = null;
}
