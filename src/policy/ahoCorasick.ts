// Aho–Corasick over sequences of integer symbols: finds every entry ending at each position of a text in one
// left-to-right pass, so the cost of a scan is linear in the text (plus the matches reported) whatever the number
// of entries (an edge is found by binary search among a state's edges, at most log₂ of the list's size). Used twice by the blocked-word matcher: over tokens (whole words and phrases) and over characters
// (words inside spelled-out runs). Edges are kept flat (sorted per state, binary-searched) rather than a Map per
// state: a 10,000-word list is a few typed arrays, and a scan allocates nothing.

/** No state: a symbol with no edge, or an entry index that does not exist. */
const NONE = -1;
const ROOT = 0;

export class AhoCorasick {
  /** Per state, its edges as [edgeStart[s], edgeStart[s + 1]) in `edgeSymbol` (sorted) and `edgeTarget`. */
  private readonly edgeStart: Int32Array;
  private readonly edgeSymbol: Int32Array;
  private readonly edgeTarget: Int32Array;
  private readonly fail: Int32Array;
  /** The entry ending at a state, or NONE. */
  private readonly entryAt: Int32Array;
  /** The nearest state along the failure links that ends an entry, or NONE: the other entries ending here. */
  private readonly nextOutput: Int32Array;
  /** Each entry's length in symbols. */
  readonly lengths: Int32Array;

  /** `entries[i]` is entry i's symbols (non-empty, each ≥ 0); a repeated entry keeps its first index. */
  constructor(entries: readonly (readonly number[])[]) {
    const children: Map<number, number>[] = [new Map()];
    const entryAt: number[] = [NONE];
    this.lengths = new Int32Array(entries.length);
    entries.forEach((symbols, index) => {
      let state = ROOT;
      for (const symbol of symbols) {
        let next = children[state]!.get(symbol);
        if (next === undefined) {
          next = children.length;
          children.push(new Map());
          entryAt.push(NONE);
          children[state]!.set(symbol, next);
        }
        state = next;
      }
      this.lengths[index] = symbols.length;
      if (state !== ROOT && entryAt[state] === NONE) entryAt[state] = index;
    });

    const states = children.length;
    this.edgeStart = new Int32Array(states + 1);
    let edges = 0;
    for (let s = 0; s < states; s++) edges += children[s]!.size;
    this.edgeSymbol = new Int32Array(edges);
    this.edgeTarget = new Int32Array(edges);
    let at = 0;
    for (let s = 0; s < states; s++) {
      this.edgeStart[s] = at;
      for (const symbol of [...children[s]!.keys()].sort((a, b) => a - b)) {
        this.edgeSymbol[at] = symbol;
        this.edgeTarget[at] = children[s]!.get(symbol)!;
        at++;
      }
    }
    this.edgeStart[states] = at;

    // Failure links breadth first: a state's link is the longest proper suffix of its path that is a state.
    this.fail = new Int32Array(states);
    this.entryAt = Int32Array.from(entryAt);
    this.nextOutput = new Int32Array(states).fill(NONE);
    const queue = new Int32Array(states);
    let head = 0;
    let tail = 0;
    queue[tail++] = ROOT;
    while (head < tail) {
      const state = queue[head++]!;
      const link = this.fail[state]!;
      if (state !== ROOT) this.nextOutput[state] = this.entryAt[link] !== NONE ? link : this.nextOutput[link]!;
      for (let e = this.edgeStart[state]!; e < this.edgeStart[state + 1]!; e++) {
        const child = this.edgeTarget[e]!;
        this.fail[child] = state === ROOT ? ROOT : this.step(link, this.edgeSymbol[e]!);
        queue[tail++] = child;
      }
    }
  }

  /** The start state of a scan. */
  get root(): number {
    return ROOT;
  }

  /** The state after reading `symbol`; a negative symbol (one no entry has) starts over at the root. */
  next(state: number, symbol: number): number {
    return symbol < 0 ? ROOT : this.step(state, symbol);
  }

  /** The entry ending at `state` itself, or NONE. */
  entryEndingAt(state: number): number {
    return this.entryAt[state]!;
  }

  /** The next state along the failure links that ends an entry (shorter entries ending here too), or NONE. */
  shorterOutput(state: number): number {
    return this.nextOutput[state]!;
  }

  private step(from: number, symbol: number): number {
    let state = from;
    for (;;) {
      const child = this.child(state, symbol);
      if (child !== NONE) return child;
      if (state === ROOT) return ROOT;
      state = this.fail[state]!;
    }
  }

  private child(state: number, symbol: number): number {
    let low = this.edgeStart[state]!;
    let high = this.edgeStart[state + 1]! - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const found = this.edgeSymbol[mid]!;
      if (found === symbol) return this.edgeTarget[mid]!;
      if (found < symbol) low = mid + 1;
      else high = mid - 1;
    }
    return NONE;
  }
}

export const NO_ENTRY = NONE;
