import { describe, expect, it } from 'vitest';
import { AhoCorasick, NO_ENTRY } from './ahoCorasick.js';

/** Every (entry, end position) the automaton reports over `text`, in order. */
function scan(automaton: AhoCorasick, text: readonly number[]): [number, number][] {
  const found: [number, number][] = [];
  let state = automaton.root;
  text.forEach((symbol, at) => {
    state = automaton.next(state, symbol);
    for (let s = automaton.entryEndingAt(state) !== NO_ENTRY ? state : automaton.shorterOutput(state); s !== NO_ENTRY; s = automaton.shorterOutput(s)) {
      found.push([automaton.entryEndingAt(s), at]);
    }
  });
  return found;
}

const codes = (text: string) => [...text].map((char) => char.charCodeAt(0));

describe('AhoCorasick', () => {
  it('finds every entry at every place it ends, overlapping ones and ones inside others included', () => {
    const automaton = new AhoCorasick(['he', 'she', 'his', 'hers'].map(codes));
    expect(scan(automaton, codes('ushers'))).toEqual([
      [1, 3],
      [0, 3],
      [3, 5],
    ]);
  });

  it('follows failure links after a partial match, and treats a symbol no entry has as a fresh start', () => {
    const automaton = new AhoCorasick([codes('abcd'), codes('bce')]);
    expect(scan(automaton, codes('abce'))).toEqual([[1, 3]]);
    expect(scan(automaton, [...codes('ab'), -1, ...codes('cd')])).toEqual([]);
  });

  it('keeps the first index of a repeated entry and the length of each', () => {
    const automaton = new AhoCorasick([codes('ab'), codes('b'), codes('ab')]);
    expect(scan(automaton, codes('ab'))).toEqual([
      [0, 1],
      [1, 1],
    ]);
    expect([...automaton.lengths]).toEqual([2, 1, 2]);
  });

  it('agrees with a naive search on random texts', () => {
    let seed = 11;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return seed % n;
    };
    const entries = Array.from({ length: 40 }, () => Array.from({ length: 1 + random(4) }, () => random(3)));
    const automaton = new AhoCorasick(entries);
    for (let round = 0; round < 50; round++) {
      const text = Array.from({ length: 30 }, () => random(3));
      const naive: [number, number][] = [];
      for (let at = 0; at < text.length; at++) {
        const ending = new Set<string>();
        entries.forEach((entry, index) => {
          const start = at - entry.length + 1;
          const key = entry.join(',');
          if (start >= 0 && !ending.has(key) && entry.every((symbol, i) => text[start + i] === symbol)) {
            ending.add(key);
            naive.push([index, at]);
          }
        });
      }
      const sort = (list: [number, number][]) => list.sort((a, b) => a[1] - b[1] || a[0] - b[0]);
      expect(sort(scan(automaton, text))).toEqual(sort(naive));
    }
  });
});
