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
const SPELLED_OUT = /(?<![\p{L}\p{N}])(?:[\p{L}\p{N}][\s.\-_*+]){2,}[\p{L}\p{N}](?![\p{L}\p{N}])/gu;

/** Case, compatibility forms, Latin accents and invisible characters: what both words and prompts go through. */
export function foldText(text: string): string {
  return text.normalize('NFKD').replace(LATIN_DIACRITICS, '').replace(INVISIBLE, '').toLowerCase();
}

/** Which ASCII codes are look-alikes, for the scan; the replacement goes by LEET_BASE. */
const IS_LEET = new Uint8Array(128);
for (const char of [...Object.keys(LEET_BASE), '1']) IS_LEET[char.charCodeAt(0)] = 1;
const LEET_ALL = /[013457@$!]/g;
const asI = (char: string) => (char === '1' ? 'i' : LEET_BASE[char]!);
const asL = (char: string) => (char === '1' ? 'l' : LEET_BASE[char]!);
const WHITESPACE = /\s/;

function isSpace(code: number): boolean {
  return code < 128 ? code === 32 || (code >= 9 && code <= 13) : WHITESPACE.test(String.fromCharCode(code));
}

/** Whether the letter test needs the regex: a non-ASCII code unit (a surrogate pair is tested whole). */
function isLetterAt(text: string, at: number): boolean {
  const code = text.charCodeAt(at);
  if (code < 128) return (code >= 97 && code <= 122) || (code >= 65 && code <= 90);
  return LETTER.test(code >= 0xd800 && code <= 0xdbff ? text.slice(at, at + 2) : text[at]!);
}

/**
 * Look-alikes are read as letters only in tokens (runs of non-whitespace) that hold a letter, so "1024" or "4"
 * stay numbers. One pass by character codes, copying only the tokens it changes: a long prompt costs little.
 */
function unleet(folded: string, one: 'i' | 'l'): string {
  if (!LEET.test(folded)) return folded;
  let read = '';
  let copied = 0;
  for (let at = 0; at < folded.length; ) {
    while (at < folded.length && isSpace(folded.charCodeAt(at))) at++;
    const start = at;
    let letter = false;
    let leet = false;
    for (; at < folded.length; at++) {
      const code = folded.charCodeAt(at);
      if (isSpace(code)) break;
      if (code < 128 && IS_LEET[code] === 1) leet = true;
      else if (!letter) letter = isLetterAt(folded, at);
    }
    if (!letter || !leet) continue;
    read += folded.slice(copied, start) + folded.slice(start, at).replace(LEET_ALL, one === 'i' ? asI : asL);
    copied = at;
  }
  return copied === 0 ? folded : read + folded.slice(copied);
}

export interface FoldedForms {
  /** Distinct variants of the whole text, the plain folded one first: blocked words must match whole words. */
  variants: string[];
  /** Spelled-out runs with their separators removed: blocked words may match anywhere inside. */
  runs: string[];
}

export function foldedForms(text: string): FoldedForms {
  const folded = foldText(text);
  const variants = [...new Set([folded, unleet(folded, 'i'), unleet(folded, 'l')])];
  const joined = (folded.match(SPELLED_OUT) ?? []).map((run) => run.replace(/[\s.\-_*+]/g, ''));
  const runs = joined.flatMap((run) => [run, unleet(run, 'i'), unleet(run, 'l')]);
  return { variants, runs: [...new Set(runs)] };
}
