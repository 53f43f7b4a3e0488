// JSON text to values, keeping integers beyond 2^53-1 exact. Saved workflows hold 64-bit seeds that JSON.parse
// would round (Node 20 gives a reviver no access to the source text), so this small reader returns a bigint for
// any integer literal a double cannot hold; everything else parses as JSON.parse would.

export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
}

const WHITESPACE = /[ \t\n\r]*/y;
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;
const LITERAL = /true|false|null/y;

export function parseExactJson(text: string): unknown {
  let at = 0;
  const fail = (what: string): never => {
    const line = text.slice(0, at).split('\n').length;
    throw new JsonSyntaxError(`${what} at line ${line} (character ${at + 1})`);
  };
  const skip = (): void => {
    WHITESPACE.lastIndex = at;
    WHITESPACE.exec(text);
    at = WHITESPACE.lastIndex;
  };
  const token = (pattern: RegExp): string | undefined => {
    pattern.lastIndex = at;
    const match = pattern.exec(text);
    if (!match) return undefined;
    at = pattern.lastIndex;
    return match[0];
  };
  const expect = (char: string): void => {
    skip();
    if (text[at] !== char) fail(`expected "${char}"`);
    at++;
  };

  function value(depth: number): unknown {
    if (depth > 512) fail('nesting too deep');
    skip();
    const char = text[at];
    if (char === '{') return object(depth);
    if (char === '[') return array(depth);
    if (char === '"') return string();
    const literal = token(LITERAL);
    if (literal !== undefined) return literal === 'null' ? null : literal === 'true';
    const number = token(NUMBER);
    if (number === undefined) return fail(char === undefined ? 'unexpected end of text' : `unexpected "${char}"`);
    const parsed = Number(number);
    const integral = !/[.eE]/.test(number);
    return integral && !Number.isSafeInteger(parsed) ? BigInt(number) : parsed;
  }

  function string(): string {
    const raw = token(STRING);
    if (raw === undefined) return fail('malformed string');
    return JSON.parse(raw) as string;
  }

  function object(depth: number): Record<string, unknown> {
    at++;
    // A null prototype: keys such as "__proto__" in an untrusted file are plain keys, never the prototype.
    const out = Object.create(null) as Record<string, unknown>;
    skip();
    if (text[at] === '}') {
      at++;
      return out;
    }
    for (;;) {
      skip();
      if (text[at] !== '"') fail('expected a property name');
      const key = string();
      expect(':');
      out[key] = value(depth + 1);
      skip();
      if (text[at] === ',') {
        at++;
        continue;
      }
      expect('}');
      return out;
    }
  }

  function array(depth: number): unknown[] {
    at++;
    const out: unknown[] = [];
    skip();
    if (text[at] === ']') {
      at++;
      return out;
    }
    for (;;) {
      out.push(value(depth + 1));
      skip();
      if (text[at] === ',') {
        at++;
        continue;
      }
      expect(']');
      return out;
    }
  }

  const result = value(0);
  skip();
  if (at < text.length) fail('unexpected text after the end');
  return result;
}
