// Text folding for blocked-word matching: the variants a prompt is checked in, so the usual ways of slipping a
// word past a filter still match. What is caught, and nothing more:
//   - case, compatibility forms (fullwidth "ｎｕｄｅ", ligatures) and Latin accents ("nüde") — NFKD, then the
//     combining diacritical marks U+0300–U+036F are dropped (other scripts keep their marks: they carry meaning);
//   - invisible characters inserted inside a word (zero-width space/joiners, word joiner, soft hyphen, BOM);
//   - digit and symbol look-alikes inside a word that also has a letter: 0→o 3→e 4→a 5→s 7→t @→a $→s !→i,
//     and 1 as both i and l (two variants, so "k1ll" and "1ewd" both fold);
//   - letters spelled out one by one with single separators ("n u d e", "n.u.d.e", "n-u-d-e", "n_u_d_e"): such a
//     run is joined ("anude" for "a n u d e") and a word anywhere inside it counts, since every letter of a run
//     is a boundary.
// Not caught: repeated letters ("nuuude"), homoglyphs from other scripts (Cyrillic "а"), words split across
// options. Those need a human; the audit log records every prompt for that.

const INVISIBLE = /[\u00ad\u200b-\u200d\u2060\ufeff]/g;
const LATIN_DIACRITICS = /[\u0300-\u036f]/g;
const LEET_BASE: Readonly<Record<string, string>> = { '0': 'o', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's', '!': 'i' };
const LEET = /[013457@$!]/;
const LETTER = /\p{L}/u;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/** Case, compatibility forms, Latin accents and invisible characters: what both words and prompts go through. */
export function foldText(text: string): string {
  return text.normalize('NFKD').replace(LATIN_DIACRITICS, '').replace(INVISIBLE, '').toLowerCase();
}

/** ASCII look-alike codes to the code of the letter they stand for (0: none); "1" is handled apart. */
const LEET_TO = new Uint16Array(128);
for (const [char, letter] of Object.entries(LEET_BASE)) LEET_TO[char.charCodeAt(0)] = letter.charCodeAt(0);
const ONE = 0x31;
const I = 0x69;
const L = 0x6c;
const WHITESPACE = /\s/;

function isSpace(code: number): boolean {
  return code < 128 ? code === 32 || (code >= 9 && code <= 13) : WHITESPACE.test(String.fromCharCode(code));
}

const isLeet = (code: number) => code === ONE || (code < 128 && LEET_TO[code] !== 0);

/** Whether the letter test needs the regex: a non-ASCII code unit (a surrogate pair is tested whole). */
function isLetterAt(text: string, at: number): boolean {
  const code = text.charCodeAt(at);
  if (code < 128) return (code >= 97 && code <= 122) || (code >= 65 && code <= 90);
  return LETTER.test(code >= 0xd800 && code <= 0xdbff ? text.slice(at, at + 2) : text[at]!);
}

function fromCodes(codes: Uint16Array): string {
  let text = '';
  for (let at = 0; at < codes.length; at += 8192) text += String.fromCharCode(...codes.subarray(at, at + 8192));
  return text;
}

/**
 * The text, then (when they differ) its look-alikes read as letters with 1 as i, then with 1 as l. Look-alikes are
 * read only in tokens (runs of non-whitespace) that hold a letter, so "1024" or "4" stay numbers. One pass over
 * character codes, whatever the number of tokens: a long prompt full of look-alikes costs little more than one
 * without.
 */
function lookAlikeVariants(folded: string): string[] {
  if (!LEET.test(folded)) return [folded];
  let codes: Uint16Array | null = null;
  const ones: number[] = [];
  for (let at = 0; at < folded.length; ) {
    while (at < folded.length && isSpace(folded.charCodeAt(at))) at++;
    const start = at;
    let letter = false;
    let leet = false;
    for (; at < folded.length; at++) {
      const code = folded.charCodeAt(at);
      if (isSpace(code)) break;
      if (isLeet(code)) leet = true;
      else if (!letter) letter = isLetterAt(folded, at);
    }
    if (!letter || !leet) continue;
    if (!codes) {
      codes = new Uint16Array(folded.length);
      for (let i = 0; i < folded.length; i++) codes[i] = folded.charCodeAt(i);
    }
    for (let i = start; i < at; i++) {
      const code = codes[i]!;
      if (code === ONE) {
        codes[i] = I;
        ones.push(i);
      } else if (code < 128 && LEET_TO[code] !== 0) {
        codes[i] = LEET_TO[code]!;
      }
    }
  }
  if (!codes) return [folded];
  const withI = fromCodes(codes);
  if (ones.length === 0) return [folded, withI];
  for (const i of ones) codes[i] = L;
  return [folded, withI, fromCodes(codes)];
}

export interface FoldedForms {
  /** Distinct variants of the whole text, the plain folded one first: blocked words must match whole words. */
  variants: string[];
  /** Spelled-out runs with their separators removed: blocked words may match anywhere inside. */
  runs: string[];
}

/** A letter or digit (by code point): what a spelled-out run is made of. */
function isLetterOrDigit(codePoint: number): boolean {
  if (codePoint < 128) return (codePoint >= 97 && codePoint <= 122) || (codePoint >= 65 && codePoint <= 90) || (codePoint >= 48 && codePoint <= 57);
  return LETTER_OR_DIGIT.test(String.fromCodePoint(codePoint));
}

/** One of the separators a spelled-out word may use between its letters. */
function isRunSeparator(codePoint: number): boolean {
  if (codePoint < 128) return codePoint === 0x2e || codePoint === 0x2d || codePoint === 0x5f || codePoint === 0x2a || codePoint === 0x2b || isSpace(codePoint);
  return codePoint <= 0xffff && isSpace(codePoint);
}

const width = (codePoint: number) => (codePoint > 0xffff ? 2 : 1);

/**
 * Spelled-out runs, joined: single letters or digits, each apart from the next by one separator (whitespace . - _
 * * +), at least three, with no letter or digit touching either end ("a n.u.d.e" → "anude"). A run's last letter
 * may not start a longer word: "a b c1" has none, "a b c d1" is "abc". One pass by code points.
 */
function spelledOutRuns(folded: string): string[] {
  const runs: string[] = [];
  let previousIsLetter = false;
  for (let at = 0; at < folded.length; ) {
    const first = folded.codePointAt(at)!;
    const letter = isLetterOrDigit(first);
    if (!letter || previousIsLetter) {
      previousIsLetter = letter;
      at += width(first);
      continue;
    }
    // Single letters, one separator apart: `chars` are their code points, `end` is just past the last one.
    const chars = [first];
    let end = at + width(first);
    for (;;) {
      if (end >= folded.length || !isRunSeparator(folded.codePointAt(end)!)) break;
      const next = folded.codePointAt(end + 1);
      if (next === undefined || !isLetterOrDigit(next)) break;
      chars.push(next);
      end += 1 + width(next);
    }
    // The last letter counts only if no letter or digit follows it (else it begins a word).
    const followed = end < folded.length && isLetterOrDigit(folded.codePointAt(end)!);
    const kept = followed ? chars.length - 1 : chars.length;
    if (kept >= 3) runs.push(String.fromCodePoint(...chars.slice(0, kept)));
    // Nothing after the scan can start a run with the letters it passed: carry on at its end.
    previousIsLetter = followed;
    at = end;
  }
  return runs;
}

export function foldedForms(text: string): FoldedForms {
  const folded = foldText(text);
  return { variants: lookAlikeVariants(folded), runs: [...new Set(spelledOutRuns(folded).flatMap(lookAlikeVariants))] };
}
