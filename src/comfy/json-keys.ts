// The keys of a JSON object without building its values. A server's /object_info is hundreds of kilobytes of
// JSON that parses into megabytes of objects; the scheduler only needs the node class names, and fifty backends
// parsing it at start-up held the bot's heap at its highest. The values are skipped by their brackets and
// strings, not read: a body whose strings and brackets balance yields its keys even if a value inside is not
// valid JSON, which is harmless for names that are only looked up.
// The scanner takes the body chunk by chunk as it arrives, so the body is never held whole: fifty backends' bodies,
// each read into one buffer, stayed in the bot's memory (about 30 MB of array buffers) until V8's next full
// collection, which came at no predictable time.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** How much of the body's start is kept for an error message. */
const HEAD_BYTES = 120;

/** Where the scanner is: before the object, inside it, after it, or past a byte that makes it not one object. */
type Phase = 'before' | 'inside' | 'after' | 'invalid';

export class TopLevelKeyScanner {
  private phase: Phase = 'before';
  private readonly keys: string[] = [];
  /** The open containers below the top-level object, as their closing byte. */
  private readonly closers: number[] = [];
  /** At depth 0 (inside the object itself): a key may come next, or a colon must. */
  private expectKey = true;
  private expectColon = false;
  private inString = false;
  /** The previous byte inside the string was an unescaped backslash. */
  private escaped = false;
  /** The bytes of the top-level key being read (a key may span chunks), or null when the string is a value. */
  private keyParts: Buffer[] | null = null;
  private headParts: Buffer[] = [];
  private headLength = 0;

  /** The first bytes of the body, for saying what came instead of an object. */
  get head(): string {
    return Buffer.concat(this.headParts).toString('utf8');
  }

  push(chunk: Buffer): void {
    if (this.headLength < HEAD_BYTES) {
      const part = Buffer.from(chunk.subarray(0, HEAD_BYTES - this.headLength));
      this.headParts.push(part);
      this.headLength += part.length;
    }
    for (let i = 0; i < chunk.length && this.phase !== 'invalid'; i++) {
      if (this.inString) {
        i = this.readString(chunk, i);
        continue;
      }
      this.byte(chunk[i]!);
    }
  }

  /** The keys in order; undefined when the body was not one JSON object. */
  end(): string[] | undefined {
    return this.phase === 'after' ? this.keys : undefined;
  }

  /** Consumes string bytes from `i`; returns the index of the last byte consumed. */
  private readString(chunk: Buffer, i: number): number {
    let at = i;
    for (; at < chunk.length; at++) {
      const b = chunk[at]!;
      if (this.escaped) this.escaped = false;
      else if (b === BACKSLASH) this.escaped = true;
      else if (b === QUOTE) break;
    }
    if (this.keyParts) this.keyParts.push(chunk.subarray(i, at));
    if (at < chunk.length) {
      this.inString = false;
      if (this.keyParts) this.endKey();
    }
    return at;
  }

  private endKey(): void {
    const raw = Buffer.concat(this.keyParts!);
    this.keyParts = null;
    let key: string;
    if (raw.indexOf(BACKSLASH) < 0) {
      key = raw.toString('utf8');
    } else {
      try {
        key = JSON.parse(`"${raw.toString('utf8')}"`) as string;
      } catch {
        this.phase = 'invalid';
        return;
      }
    }
    this.keys.push(key);
    this.expectKey = false;
    this.expectColon = true;
  }

  private byte(b: number): void {
    if (isSpace(b)) return;
    if (this.phase === 'before') {
      this.phase = b === OPEN_BRACE ? 'inside' : 'invalid';
      return;
    }
    if (this.phase === 'after') {
      this.phase = 'invalid';
      return;
    }
    const topLevel = this.closers.length === 0;
    if (b === QUOTE) {
      this.inString = true;
      this.escaped = false;
      if (topLevel && this.expectKey) this.keyParts = [];
      else if (topLevel && this.expectColon) this.phase = 'invalid';
      return;
    }
    if (topLevel) {
      if (this.expectColon) {
        if (b !== COLON) this.phase = 'invalid';
        this.expectColon = false;
        return;
      }
      if (this.expectKey && b !== CLOSE_BRACE) {
        this.phase = 'invalid';
        return;
      }
      if (b === COMMA) {
        this.expectKey = true;
        return;
      }
      if (b === CLOSE_BRACE) {
        // `{"a": 1,}` is not JSON
        this.phase = this.expectKey && this.keys.length > 0 ? 'invalid' : 'after';
        return;
      }
    }
    if (b === OPEN_BRACE) this.closers.push(CLOSE_BRACE);
    else if (b === OPEN_BRACKET) this.closers.push(CLOSE_BRACKET);
    else if ((b === CLOSE_BRACE || b === CLOSE_BRACKET) && this.closers.pop() !== b) this.phase = 'invalid';
  }
}

/** The keys of the JSON object in `bytes` (UTF-8), in order; undefined when `bytes` is not one JSON object. */
export function topLevelKeys(bytes: Buffer): string[] | undefined {
  const scanner = new TopLevelKeyScanner();
  scanner.push(bytes);
  return scanner.end();
}
