// Blocked words, matched in time linear in the prompt whatever the length of the list. A word (or phrase) is
// folded like the prompt (fold.ts) and split into tokens: runs of letters, digits and marks ("word" tokens), each
// other visible character on its own, and whitespace as one SPACE token. Both the list and the prompt become
// sequences of token ids, and one Aho–Corasick pass over the prompt's sequence finds every entry. A match counts
// when it is a whole word: the tokens either side of it are not word tokens (that is the old regex's "no letter,
// digit or mark just before or after"; two word tokens are never adjacent, so only an entry starting or ending
// with a symbol, such as "c++", can fail it). Spelled-out runs ("n u d e") are searched for the words without
// their spaces, anywhere inside, by a second automaton over characters.
import { AhoCorasick, NO_ENTRY } from './ahoCorasick.js';
import { foldText, type FoldedForms } from './fold.js';

/** A word token, a whitespace run, or any other single character (code point). */
const TOKEN = /[\p{L}\p{N}\p{M}]+|\s+|[^]/gu;
const WORD_TOKEN = /^[\p{L}\p{N}\p{M}]/u;
const WHITESPACE = /^\s/u;
/** Every whitespace run is this one token, in lists and prompts alike. */
const SPACE = 0;

/** Token ids of a folded text; `intern` adds unknown tokens to the vocabulary (lists), else they are -1. */
function tokenIds(text: string, vocabulary: Map<string, number>, intern: boolean): { ids: number[]; word: boolean[] } {
  const ids: number[] = [];
  const word: boolean[] = [];
  TOKEN.lastIndex = 0;
  for (let match = TOKEN.exec(text); match !== null; match = TOKEN.exec(text)) {
    const token = match[0];
    if (WHITESPACE.test(token)) {
      ids.push(SPACE);
      word.push(false);
      continue;
    }
    let id = vocabulary.get(token);
    if (id === undefined && intern) {
      id = vocabulary.size;
      vocabulary.set(token, id);
    }
    ids.push(id ?? -1);
    word.push(WORD_TOKEN.test(token));
  }
  return { ids, word };
}

/** A code point's symbol for the character automaton. */
function codePoints(text: string): number[] {
  return Array.from(text, (char) => char.codePointAt(0)!);
}

/** One list of blocked words, compiled once; `firstMatch` is O(prompt length). */
export class WordMatcher {
  /** The words as the admin wrote them, those that fold to something: entry i of both automata is word i. */
  private readonly words: readonly string[];
  private readonly vocabulary = new Map<string, number>([[' ', SPACE]]);
  private readonly tokens: AhoCorasick;
  private readonly chars: AhoCorasick;

  constructor(words: readonly string[]) {
    const folded = words.map((word) => ({ word, folded: foldText(word).trim() }));
    // A word that folds to nothing (only accents or invisible characters) would match everywhere.
    const kept = folded.filter(({ folded }) => folded !== '');
    this.words = kept.map(({ word }) => word);
    this.tokens = new AhoCorasick(kept.map(({ folded }) => tokenIds(folded, this.vocabulary, true).ids));
    this.chars = new AhoCorasick(kept.map(({ folded }) => codePoints(folded.replace(/\s+/g, ''))));
  }

  get size(): number {
    return this.words.length;
  }

  /** The first blocked word in any variant of the prompt, else in its spelled-out runs; null when none. */
  firstMatch(forms: FoldedForms): string | null {
    for (const text of forms.variants) {
      const entry = this.wholeWordIn(text);
      if (entry !== NO_ENTRY) return this.words[entry]!;
    }
    for (const run of forms.runs) {
      const entry = this.anywhereIn(run);
      if (entry !== NO_ENTRY) return this.words[entry]!;
    }
    return null;
  }

  private wholeWordIn(text: string): number {
    const { ids, word } = tokenIds(text, this.vocabulary, false);
    const last = ids.length - 1;
    let state = this.tokens.root;
    for (let at = 0; at <= last; at++) {
      state = this.tokens.next(state, ids[at]!);
      for (let s = this.firstOutput(this.tokens, state); s !== NO_ENTRY; s = this.tokens.shorterOutput(s)) {
        const entry = this.tokens.entryEndingAt(s);
        const start = at - this.tokens.lengths[entry]! + 1;
        if ((start === 0 || !word[start - 1]) && (at === last || !word[at + 1])) return entry;
      }
    }
    return NO_ENTRY;
  }

  private anywhereIn(run: string): number {
    let state = this.chars.root;
    for (const char of run) {
      state = this.chars.next(state, char.codePointAt(0)!);
      const s = this.firstOutput(this.chars, state);
      if (s !== NO_ENTRY) return this.chars.entryEndingAt(s);
    }
    return NO_ENTRY;
  }

  private firstOutput(automaton: AhoCorasick, state: number): number {
    return automaton.entryEndingAt(state) !== NO_ENTRY ? state : automaton.shorterOutput(state);
  }
}
