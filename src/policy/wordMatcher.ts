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

/** What a character is to the tokeniser: part of a word, whitespace, or a token on its own. */
const OTHER = 0;
const WORD = 1;
const BLANK = 2;
const WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;
const BLANK_CHAR = /\s/u;
/** The ASCII range by table (prompts are mostly ASCII); the rest by the same classes the old regex used. */
const ASCII_KIND = new Uint8Array(128).map((_, code) => {
  const char = String.fromCharCode(code);
  return WORD_CHAR.test(char) ? WORD : BLANK_CHAR.test(char) ? BLANK : OTHER;
});

function kindOf(codePoint: number): number {
  if (codePoint < 128) return ASCII_KIND[codePoint]!;
  const char = String.fromCodePoint(codePoint);
  return WORD_CHAR.test(char) ? WORD : BLANK_CHAR.test(char) ? BLANK : OTHER;
}

/** Every whitespace run is this one token, in lists and prompts alike. */
const SPACE = 0;

/** A folded text as token ids (`ids[0..count)`), and which of them are word tokens. */
interface Tokens {
  ids: Int32Array;
  word: Uint8Array;
  count: number;
}

/** Reused by every scan (scans are synchronous), grown to the longest text seen: a check allocates no arrays. */
const scratch: Tokens = { ids: new Int32Array(256), word: new Uint8Array(256), count: 0 };

/**
 * Splits a folded text into token ids: `intern` adds unknown tokens to the vocabulary (lists), else they are -1
 * (a prompt's token no entry has). Fills and returns `scratch`, valid until the next call.
 */
function tokenize(text: string, vocabulary: Map<string, number>, intern: boolean): Tokens {
  if (scratch.ids.length < text.length) {
    scratch.ids = new Int32Array(text.length);
    scratch.word = new Uint8Array(text.length);
  }
  const { ids, word } = scratch;
  let count = 0;
  for (let at = 0; at < text.length; ) {
    const first = text.codePointAt(at)!;
    const kind = kindOf(first);
    let end = at + (first > 0xffff ? 2 : 1);
    if (kind !== OTHER) {
      while (end < text.length) {
        const next = text.codePointAt(end)!;
        if (kindOf(next) !== kind) break;
        end += next > 0xffff ? 2 : 1;
      }
    }
    if (kind === BLANK) {
      ids[count] = SPACE;
    } else {
      const token = text.slice(at, end);
      let id = vocabulary.get(token);
      if (id === undefined && intern) {
        id = vocabulary.size;
        vocabulary.set(token, id);
      }
      ids[count] = id ?? -1;
    }
    word[count++] = kind === WORD ? 1 : 0;
    at = end;
  }
  scratch.count = count;
  return scratch;
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
    this.tokens = new AhoCorasick(kept.map(({ folded }) => {
      const { ids, count } = tokenize(folded, this.vocabulary, true);
      return Array.from(ids.subarray(0, count));
    }));
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
    const { ids, word, count } = tokenize(text, this.vocabulary, false);
    const last = count - 1;
    let state = this.tokens.root;
    for (let at = 0; at <= last; at++) {
      state = this.tokens.next(state, ids[at]!);
      for (let s = this.firstOutput(this.tokens, state); s !== NO_ENTRY; s = this.tokens.shorterOutput(s)) {
        const entry = this.tokens.entryEndingAt(s);
        const start = at - this.tokens.lengths[entry]! + 1;
        if ((start === 0 || word[start - 1] === 0) && (at === last || word[at + 1] === 0)) return entry;
      }
    }
    return NO_ENTRY;
  }

  private anywhereIn(run: string): number {
    let state = this.chars.root;
    for (let at = 0; at < run.length; ) {
      const codePoint = run.codePointAt(at)!;
      at += codePoint > 0xffff ? 2 : 1;
      state = this.chars.next(state, codePoint);
      const s = this.firstOutput(this.chars, state);
      if (s !== NO_ENTRY) return this.chars.entryEndingAt(s);
    }
    return NO_ENTRY;
  }

  private firstOutput(automaton: AhoCorasick, state: number): number {
    return automaton.entryEndingAt(state) !== NO_ENTRY ? state : automaton.shorterOutput(state);
  }
}
