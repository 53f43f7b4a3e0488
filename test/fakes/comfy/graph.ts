// Graph questions the fake's executor asks about an API-format prompt: run order, cache keys, image sizes.
import type { Storage } from './storage.js';
import { isLink, type Prompt } from './validate.js';

const MAX_IMAGE_SIDE = 4096;

/**
 * The order ComfyUI's ExecutionList runs nodes in: nodes are staged with an explicit stack (so the last input
 * of a node is staged first), and among the ready ones the "UX friendly" pick prefers outputs, then nodes one
 * or two links away from an output, else the earliest staged.
 */
export function executionOrder(prompt: Prompt, outputs: readonly string[], isOutput: (id: string) => boolean): string[] {
  const staged: string[] = [];
  const blockCount = new Map<string, number>();
  const blocking = new Map<string, Set<string>>();
  for (const output of outputs) {
    const stack = [output];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (blockCount.has(id) || !prompt[id]) continue;
      staged.push(id);
      blockCount.set(id, blockCount.get(id) ?? 0);
      blocking.set(id, blocking.get(id) ?? new Set());
      for (const value of Object.values(prompt[id].inputs)) {
        if (!isLink(value) || !prompt[value[0]]) continue;
        const from = value[0];
        const blocked = blocking.get(from) ?? new Set<string>();
        blocking.set(from, blocked);
        if (!blocked.has(id)) {
          blocked.add(id);
          blockCount.set(id, (blockCount.get(id) ?? 0) + 1);
        }
        stack.push(from);
      }
    }
  }
  const blocks = (id: string): string[] => [...(blocking.get(id) ?? [])];
  const order: string[] = [];
  const remaining = [...staged];
  while (remaining.length > 0) {
    const ready = remaining.filter((id) => blockCount.get(id) === 0);
    if (ready.length === 0) break; // a cycle: validation would have refused it in real ComfyUI
    const pick =
      ready.find(isOutput) ??
      ready.find((id) => blocks(id).some(isOutput)) ??
      ready.find((id) => blocks(id).some((next) => blocks(next).some(isOutput))) ??
      ready[0]!;
    remaining.splice(remaining.indexOf(pick), 1);
    order.push(pick);
    for (const next of blocks(pick)) blockCount.set(next, blockCount.get(next)! - 1);
  }
  return order;
}

/** A node's cache key: its class and inputs with links replaced by the upstream signature. */
export function signaturesOf(prompt: Prompt): Map<string, string> {
  const signatures = new Map<string, string>();
  const sign = (id: string, trail: Set<string>): string => {
    const known = signatures.get(id);
    if (known) return known;
    const node = prompt[id];
    if (!node || trail.has(id)) return `missing:${id}`;
    trail.add(id);
    const inputs = Object.keys(node.inputs).sort().map((name) => {
      const value = node.inputs[name];
      return [name, isLink(value) ? { link: sign(value[0], trail), slot: value[1] } : value];
    });
    const signature = JSON.stringify([node.class_type, inputs]);
    signatures.set(id, signature);
    return signature;
  };
  for (const id of Object.keys(prompt)) sign(id, new Set());
  return signatures;
}

function numericInput(node: { inputs: Record<string, unknown> }, name: string): number | undefined {
  const value = Number(node.inputs[name]);
  return Number.isFinite(value) && value > 0 ? Math.trunc(value) : undefined;
}

/** Breadth-first over a node and its upstream nodes: the first answer `pick` gives, from the nearest node. */
function nearestUpstream<T>(prompt: Prompt, id: string, pick: (node: Prompt[string]) => T | undefined): T | undefined {
  const seen = new Set<string>([id]);
  for (const queue = [id]; queue.length > 0; ) {
    const node = prompt[queue.shift()!];
    if (!node) continue;
    const found = pick(node);
    if (found !== undefined) return found;
    for (const value of Object.values(node.inputs)) {
      if (isLink(value) && !seen.has(value[0])) {
        seen.add(value[0]);
        queue.push(value[0]);
      }
    }
  }
  return undefined;
}

/**
 * The image size a node produces: the nearest upstream width/height (EmptyImage, EmptyLatentImage, ImageScale)
 * or the size of the file a LoadImage reads.
 */
export function imageSize(prompt: Prompt, id: string, storage: Storage): { width: number; height: number } {
  const size = nearestUpstream(prompt, id, (node) => {
    const width = numericInput(node, 'width');
    const height = numericInput(node, 'height');
    if (width && height) return { width, height };
    const image = node.inputs['image'];
    return typeof image === 'string' ? storage.imageDimensions(image) : undefined;
  }) ?? { width: 64, height: 64 };
  return { width: Math.min(size.width, MAX_IMAGE_SIDE), height: Math.min(size.height, MAX_IMAGE_SIDE) };
}

export function batchSize(prompt: Prompt, id: string): number {
  return Math.min(nearestUpstream(prompt, id, (node) => numericInput(node, 'batch_size')) ?? 1, 64);
}
