import { describe, expect, it } from 'vitest';
import { serialGate } from './serial-gate.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('serialGate', () => {
  it('starts each task only after the one before it settled, failed ones included', async () => {
    const gate = serialGate();
    const started: string[] = [];
    const first = deferred<string>();
    const second = deferred<string>();
    const a = gate(() => (started.push('a'), first.promise));
    const b = gate(() => (started.push('b'), second.promise));
    const c = gate(async () => (started.push('c'), 'c'));
    await Promise.resolve();
    expect(started).toEqual(['a']);
    first.reject(new Error('a failed'));
    await expect(a).rejects.toThrow('a failed');
    expect(started).toEqual(['a', 'b']);
    second.resolve('b');
    await expect(b).resolves.toBe('b');
    await expect(c).resolves.toBe('c');
    expect(started).toEqual(['a', 'b', 'c']);
  });
});
