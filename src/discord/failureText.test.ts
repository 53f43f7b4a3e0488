import { describe, expect, it } from 'vitest';
import type { ExecutionFailure } from '../comfy/types.js';
import { describeFailure } from './failureText.js';

const failure = (overrides: Partial<ExecutionFailure>): ExecutionFailure => ({
  nodeId: '3',
  nodeType: 'KSampler',
  exceptionType: 'RuntimeError',
  exceptionMessage: 'mat1 and mat2 shapes cannot be multiplied\nmore lines',
  traceback: [],
  ...overrides,
});

describe('describeFailure', () => {
  it('names the failing node by title and gives the first line of its error', () => {
    expect(describeFailure({ kind: 'execution', failure: failure({}) }, (id) => (id === '3' ? 'Sampler' : undefined))).toBe(
      'Sampler (node 3) failed: RuntimeError: mat1 and mat2 shapes cannot be multiplied',
    );
    expect(describeFailure({ kind: 'execution', failure: failure({}) })).toBe(
      'KSampler (node 3) failed: RuntimeError: mat1 and mat2 shapes cannot be multiplied',
    );
  });

  it('turns out-of-memory errors into advice', () => {
    const oom = failure({ exceptionType: 'torch.OutOfMemoryError', exceptionMessage: 'CUDA out of memory. Tried to allocate 2 GiB' });
    expect(describeFailure({ kind: 'execution', failure: oom })).toMatch(/ran out of GPU memory\. Try a smaller size/);
  });

  it('copes with a failure that names no node and says nothing', () => {
    expect(describeFailure({ kind: 'execution', failure: failure({ nodeId: null, nodeType: null, exceptionType: '', exceptionMessage: '' }) })).toBe(
      'a node failed: no details given',
    );
    const long = describeFailure({ kind: 'execution', failure: failure({ exceptionMessage: 'x'.repeat(5000) }) });
    expect(long.length).toBeLessThan(600);
  });

  it('explains lost and timed-out jobs', () => {
    expect(describeFailure({ kind: 'lost', message: 'the server restarted' })).toBe(
      'The ComfyUI server lost this job (the server restarted). Run the command again.',
    );
    expect(describeFailure({ kind: 'timeout', message: 'over 1800 s' })).toBe('The job took too long and was stopped: over 1800 s');
  });
});
