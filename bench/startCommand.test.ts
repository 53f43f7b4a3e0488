import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseStartCommand, readStartCommand, StartCommandError } from './startCommand.js';

describe("npm start's command, as the bench reads it", () => {
  it('splits the environment, the node flags, the script and its arguments', () => {
    expect(parseStartCommand('MALLOC_ARENA_MAX=2 A_B=x=y node --max-semi-space-size=4 --trace-gc dist/src/cli/index.js start --now')).toEqual({
      env: { MALLOC_ARENA_MAX: '2', A_B: 'x=y' },
      nodeFlags: ['--max-semi-space-size=4', '--trace-gc'],
      script: 'dist/src/cli/index.js',
      args: ['start', '--now'],
    });
    expect(parseStartCommand('node app.js')).toEqual({ env: {}, nodeFlags: [], script: 'app.js', args: [] });
  });

  it.each([
    ['a command that is not node', 'tsx src/cli/index.ts start', /must run node .*not "tsx"/],
    ['node without a script', 'MALLOC_ARENA_MAX=2 node --trace-gc', /names no script/],
    ['shell syntax the bench cannot follow', 'npm run build && node dist/src/cli/index.js start', /plain words/],
    ['a quoted value', 'NODE_OPTIONS="--a --b" node x.js', /plain words/],
  ])('refuses %s, saying why', (_what, command, message) => {
    expect(() => parseStartCommand(command)).toThrow(StartCommandError);
    expect(() => parseStartCommand(command)).toThrow(message);
  });

  it("reads this repository's start script: the compiled CLI under node", () => {
    const start = readStartCommand(fileURLToPath(new URL('../package.json', import.meta.url)));
    expect(start.script).toBe('dist/src/cli/index.js');
    expect(start.args).toEqual(['start']);
  });
});
