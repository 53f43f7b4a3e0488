import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TopLevelKeyScanner, topLevelKeys } from './json-keys.js';

const keys = (text: string) => topLevelKeys(Buffer.from(text, 'utf8'));

describe('topLevelKeys', () => {
  it('gives the keys of a recorded /object_info in order, as JSON.parse does', () => {
    const bytes = readFileSync(new URL('../../test/fixtures/comfyui/object_info.json', import.meta.url));
    expect(topLevelKeys(bytes)).toEqual(Object.keys(JSON.parse(bytes.toString('utf8')) as object));
  });

  it('skips nested objects, arrays and strings holding brackets, quotes, colons and commas', () => {
    expect(keys(' {"a": {"b": [1, {"c": "}]"}]}, "d\\"e": "x\\\\", "f": "{\\"g\\": 1,", "h" : null } \n')).toEqual(['a', 'd"e', 'f', 'h']);
  });

  it('decodes escaped and non-ASCII keys', () => {
    expect(keys('{"caf\\u00e9": 1, "日本": 2, "tab\\t": 3}')).toEqual(['café', '日本', 'tab\t']);
  });

  it('reads an empty object as no keys', () => {
    expect(keys('{}')).toEqual([]);
    expect(keys(' { } ')).toEqual([]);
  });

  it.each([
    ['not an object', '[1, 2]'],
    ['an HTML error page', '<html>502</html>'],
    ['empty', ''],
    ['truncated inside a value', '{"a": {"b": 1'],
    ['truncated inside a string', '{"a": "b'],
    ['truncated after a key', '{"a"'],
    ['a key without a colon', '{"a" 1}'],
    ['a bare key', '{a: 1}'],
    ['mismatched brackets', '{"a": [1}'],
    ['a trailing comma', '{"a": 1,}'],
    ['text after the object', '{"a": 1} x'],
    ['a bad escape in a key', '{"\\q": 1}'],
  ])('refuses %s', (_what, text) => {
    expect(keys(text)).toBeUndefined();
  });
});

describe('TopLevelKeyScanner', () => {
  const tricky = ' {"a": {"b": [1, {"c": "}]"}]}, "d\\"e": "x\\\\", "caf\\u00e9": "{\\"g\\": 1,", "日本" : null } \n';

  it('gives the same keys whatever the chunks the body arrives in (split inside keys, escapes and characters)', () => {
    const bytes = Buffer.from(tricky, 'utf8');
    for (let size = 1; size <= 7; size++) {
      const scanner = new TopLevelKeyScanner();
      for (let at = 0; at < bytes.length; at += size) scanner.push(bytes.subarray(at, at + size));
      expect(scanner.end()).toEqual(['a', 'd"e', 'café', '日本']);
    }
  });

  it('keeps the start of the body to say what came instead of an object', () => {
    const scanner = new TopLevelKeyScanner();
    scanner.push(Buffer.from('<html>'));
    scanner.push(Buffer.from('502 Bad Gateway</html>'));
    expect(scanner.end()).toBeUndefined();
    expect(scanner.head).toBe('<html>502 Bad Gateway</html>');
  });
});
