import { describe, expect, it } from 'vitest';
import { MinHeap } from './min-heap.js';

describe('MinHeap', () => {
  it('gives items back in order whatever order they went in', () => {
    const heap = new MinHeap<number>((a, b) => a < b);
    const input = [5, 3, 9, 1, 7, 2, 8, 6, 4, 0];
    for (const n of input) heap.push(n);
    expect(heap.size).toBe(10);
    const out: number[] = [];
    for (let n = heap.pop(); n !== undefined; n = heap.pop()) out.push(n);
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(heap.size).toBe(0);
  });

  it('interleaves pushes and pops, and pops nothing from an empty heap', () => {
    const heap = new MinHeap<string>((a, b) => a < b);
    expect(heap.pop()).toBeUndefined();
    expect(heap.peek()).toBeUndefined();
    heap.push('m');
    heap.push('c');
    expect(heap.peek()).toBe('c');
    expect(heap.size).toBe(2);
    expect(heap.pop()).toBe('c');
    heap.push('a');
    heap.push('z');
    expect([heap.pop(), heap.pop(), heap.pop(), heap.pop()]).toEqual(['a', 'm', 'z', undefined]);
  });

  it("re-sorts after the top item's key changed, without a pop and a push", () => {
    const heap = new MinHeap<{ key: number; name: string }>((a, b) => a.key < b.key);
    for (const [key, name] of [[1, 'a'], [3, 'c'], [2, 'b'], [4, 'd']] as const) heap.push({ key, name });
    heap.peek()!.key = 5;
    heap.topChanged();
    const out: string[] = [];
    for (let x = heap.pop(); x; x = heap.pop()) out.push(x.name);
    expect(out).toEqual(['b', 'c', 'd', 'a']);
  });
});
