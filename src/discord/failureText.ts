// A failed run in words a Discord user can act on, from ComfyUI's failure report.
import type { FailureReason } from '../comfy/types.js';
import { truncate } from './embedLimits.js';

const OUT_OF_MEMORY = /out of memory|OutOfMemory|OOM/i;

/** `titleOf` gives a node's title from the job's workflow (`_meta.title`), when it has one. */
export function describeFailure(reason: FailureReason, titleOf: (nodeId: string) => string | undefined = () => undefined): string {
  switch (reason.kind) {
    case 'lost':
      return `The ComfyUI server lost this job (${reason.message}). Run the command again.`;
    case 'timeout':
      return `The job took too long and was stopped: ${reason.message}`;
    case 'execution': {
      const { nodeId, nodeType, exceptionType, exceptionMessage } = reason.failure;
      const title = nodeId !== null ? titleOf(nodeId) : undefined;
      const node = title ?? nodeType ?? 'a node';
      const where = nodeId !== null ? `${node} (node ${nodeId})` : node;
      const firstLine = exceptionMessage.split('\n').find((line) => line.trim() !== '')?.trim() ?? '';
      if (OUT_OF_MEMORY.test(exceptionType) || OUT_OF_MEMORY.test(firstLine)) {
        return `${where} ran out of GPU memory. Try a smaller size, a smaller batch or fewer steps.`;
      }
      const detail = [exceptionType, firstLine].filter(Boolean).join(': ');
      return `${where} failed: ${truncate(detail || 'no details given', 500)}`;
    }
  }
}
