// Python's heapq on an array, because ComfyUI's `/queue` exposes its heap array as `queue_pending` unsorted
// and clients must cope with exactly that order.

export class MinHeap<T> {
  readonly items: T[] = [];

  constructor(private readonly less: (a: T, b: T) => boolean) {}

  push(item: T): void {
    this.items.push(item);
    this.siftDown(0, this.items.length - 1);
  }

  pop(): T | undefined {
    const last = this.items.pop();
    if (last === undefined || this.items.length === 0) return last;
    const top = this.items[0]!;
    this.items[0] = last;
    this.siftUp(0);
    return top;
  }

  /** Remove the items matching `test`, then re-heapify (what ComfyUI's `delete_queue_item` does). */
  remove(test: (item: T) => boolean): T[] {
    const removed = this.items.filter(test);
    if (removed.length === 0) return removed;
    const kept = this.items.filter((item) => !test(item));
    this.items.splice(0, this.items.length, ...kept);
    for (let i = Math.floor(this.items.length / 2) - 1; i >= 0; i--) this.siftUp(i);
    return removed;
  }

  // heapq's names: _siftdown moves a new leaf towards the root, _siftup moves a root towards the leaves
  private siftDown(start: number, pos: number): void {
    const item = this.items[pos]!;
    while (pos > start) {
      const parentPos = (pos - 1) >> 1;
      const parent = this.items[parentPos]!;
      if (!this.less(item, parent)) break;
      this.items[pos] = parent;
      pos = parentPos;
    }
    this.items[pos] = item;
  }

  private siftUp(pos: number): void {
    const end = this.items.length;
    const start = pos;
    const item = this.items[pos]!;
    let child = 2 * pos + 1;
    while (child < end) {
      const right = child + 1;
      if (right < end && !this.less(this.items[child]!, this.items[right]!)) child = right;
      this.items[pos] = this.items[child]!;
      pos = child;
      child = 2 * pos + 1;
    }
    this.items[pos] = item;
    this.siftDown(start, pos);
  }
}
