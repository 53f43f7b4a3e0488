// The keys of a JSON object without building its values. A server's /object_info is hundreds of kilobytes of
// JSON that parses into megabytes of objects; the scheduler only needs the node class names, and fifty backends
// parsing it at start-up held the bot's heap at its highest. The values are skipped by their brackets and
// strings, not read: a body whose strings and brackets balance yields its keys even if a value inside is not
// valid JSON, which is harmless for names that are only looked up.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** Index of the quote that closes the string opened just before `from`, or -1 when it is never closed. */
function stringEnd(bytes: Buffer, from: number): number {
  for (let at = bytes.indexOf(QUOTE, from); at >= 0; at = bytes.indexOf(QUOTE, at + 1)) {
    let backslashes = 0;
    while (bytes[at - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return -1;
}

function decodeKey(bytes: Buffer, open: number, close: number): string | undefined {
  const escape = bytes.indexOf(BACKSLASH, open);
  if (escape < 0 || escape > close) return bytes.toString('utf8', open + 1, close);
  try {
    return JSON.parse(bytes.toString('utf8', open, close + 1)) as string;
  } catch {
    return undefined;
  }
}

/** The keys of the JSON object in `bytes` (UTF-8), in order; undefined when `bytes` is not one JSON object. */
export function topLevelKeys(bytes: Buffer): string[] | undefined {
  let i = 0;
  while (i < bytes.length && isSpace(bytes[i]!)) i++;
  if (bytes[i] !== OPEN_BRACE) return undefined;
  const keys: string[] = [];
  // the open containers below the top-level object, as their closing byte
  const closers: number[] = [];
  // at depth 0 (inside the object itself): a key may come next, or a colon must
  let expectKey = true;
  let expectColon = false;
  for (i++; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (isSpace(b)) continue;
    if (b === QUOTE) {
      const end = stringEnd(bytes, i + 1);
      if (end < 0) return undefined;
      if (closers.length === 0 && expectKey) {
        const key = decodeKey(bytes, i, end);
        if (key === undefined) return undefined;
        keys.push(key);
        expectKey = false;
        expectColon = true;
      }
      i = end;
      continue;
    }
    if (closers.length === 0) {
      if (expectColon) {
        if (b !== COLON) return undefined;
        expectColon = false;
        continue;
      }
      if (expectKey && b !== CLOSE_BRACE) return undefined;
      if (b === COMMA) {
        expectKey = true;
        continue;
      }
      if (b === CLOSE_BRACE) {
        for (i++; i < bytes.length; i++) if (!isSpace(bytes[i]!)) return undefined;
        // `{"a": 1,}` is not JSON
        return expectKey && keys.length > 0 ? undefined : keys;
      }
    }
    if (b === OPEN_BRACE) closers.push(CLOSE_BRACE);
    else if (b === OPEN_BRACKET) closers.push(CLOSE_BRACKET);
    else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
      if (closers.pop() !== b) return undefined;
    }
  }
  return undefined;
}
