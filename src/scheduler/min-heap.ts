// A binary heap: the queue's dispatch-order prediction picks the next user among hundreds once per waiting
// job, which a linear scan makes quadratic.

export class MinHeap<T> {
  private readonly items: T[] = [];

  /** `before(a, b)`: a comes out first. Must be a strict order for the output to be deterministic. */
  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  /** The item `pop` would return, left in place. */
  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(items[i]!, items[parent]!)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    items[0] = last;
    this.siftDown();
    return top;
  }

  /** Restores the order after the caller changed the top item's key: cheaper than a pop and a push. */
  topChanged(): void {
    this.siftDown();
  }

  private siftDown(): void {
    const items = this.items;
    for (let i = 0; ; ) {
      const left = 2 * i + 1;
      const right = left + 1;
      let first = i;
      if (left < items.length && this.before(items[left]!, items[first]!)) first = left;
      if (right < items.length && this.before(items[right]!, items[first]!)) first = right;
      if (first === i) return;
      this.swap(i, first);
      i = first;
    }
  }

  private swap(i: number, j: number): void {
    const a = this.items[i]!;
    this.items[i] = this.items[j]!;
    this.items[j] = a;
  }
}
