import { describe, expect, it } from 'vitest';
import { ArgsError, parseArgs } from '../../src/cli/args.js';

const spec = { values: ['out', 'backend'], flags: ['json', 'live'], pairs: true };

describe('parseArgs', () => {
  it('reads values, flags, pairs and positionals in any order', () => {
    const args = parseArgs(['cmd.yml', '--out', 'a.png', 'steps=20', '--json', 'prompt=a=b c', '--backend=gpu', 'x'], spec);
    expect([...args.values]).toEqual([
      ['out', 'a.png'],
      ['backend', 'gpu'],
    ]);
    expect([...args.flags]).toEqual(['json']);
    expect([...args.pairs]).toEqual([
      ['steps', '20'],
      ['prompt', 'a=b c'],
    ]);
    expect(args.positional).toEqual(['cmd.yml', 'x']);
  });

  it('keeps everything after -- as positionals', () => {
    expect(parseArgs(['--', '--json', 'a=b'], spec).positional).toEqual(['--json', 'a=b']);
  });

  it('treats key=value as a positional when the command takes no pairs', () => {
    expect(parseArgs(['a=b']).positional).toEqual(['a=b']);
  });

  it('accepts an empty value and a value that looks negative', () => {
    expect(parseArgs(['--out=', '--backend', '-1'], spec).values).toEqual(new Map([['out', ''], ['backend', '-1']]));
  });

  it.each([
    [['--nope'], 'unknown option --nope (known: --out, --backend, --json, --live)'],
    [['--out'], '--out needs a value'],
    [['--out', '--json'], '--out needs a value'],
    [['--out', 'a', '--out', 'b'], '--out is given twice'],
    [['--json=yes'], '--json takes no value (got "yes")'],
    [['steps=1', 'steps=2'], 'steps= is given twice'],
    [['=5'], '"=5" has no name before "="'],
  ])('%j → %s', (argv, message) => {
    expect(() => parseArgs(argv, spec)).toThrow(new ArgsError(message));
  });

  it('says when a command takes no options', () => {
    expect(() => parseArgs(['--x'])).toThrow('unknown option --x (this command takes no options)');
  });
});
