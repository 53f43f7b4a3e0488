import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { topLevelKeys } from './json-keys.js';

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
