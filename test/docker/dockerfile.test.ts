// The Dockerfile cannot be built here (no Docker engine), so scripts/docker-build-check.sh performs its steps;
// these tests pin the two together so that one cannot change without the other.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseStartCommand } from '../../bench/startCommand.js';
import { argsOf, parseDockerfile, type Stage } from './dockerfile.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const stages = parseDockerfile(read('Dockerfile'));
const script = read('scripts/docker-build-check.sh');
const build = stages[0] as Stage;
const runtime = stages.at(-1) as Stage;

/** The words of a bash array assignment in the script, e.g. RUNTIME_DIRS=(bin commands templates). */
function scriptArray(name: string): string[] {
  const match = new RegExp(`^${name}=\\(([^)]*)\\)$`, 'm').exec(script);
  if (!match) throw new Error(`scripts/docker-build-check.sh has no ${name}=(…)`);
  return (match[1] as string).split(/\s+/).filter(Boolean);
}

/** An exec-form JSON array (CMD ["a","b"]) or a shell-form command, as words. */
function words(args: string): string[] {
  return args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(' ');
}

describe('Dockerfile', () => {
  it('has a build stage and a runtime stage, both on Node 20 slim', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'runtime']);
    for (const stage of stages) expect(stage.from).toBe('node:20-slim');
  });

  it('builds dist/ from the lock file with the dev tree, then prunes to production dependencies', () => {
    expect(argsOf(build, 'RUN')).toEqual(['npm ci --no-audit --no-fund', 'npm run build && npm prune --omit=dev --no-audit --no-fund']);
  });

  it('gives the runtime stage the pruned production tree, not a second install', () => {
    expect(argsOf(runtime, 'RUN').some((args) => args.includes('npm ci'))).toBe(false);
  });

  it('copies dist, bin, commands, templates and package*.json into the runtime stage', () => {
    expect(argsOf(runtime, 'COPY')).toEqual([
      'package.json package-lock.json ./',
      '--from=build /app/node_modules ./node_modules',
      '--from=build /app/dist ./dist',
      'bin ./bin',
      'commands ./commands',
      'templates ./templates',
    ]);
  });

  it('runs as the non-root node user, after the last RUN', () => {
    const keywords = runtime.instructions.map((i) => i.keyword);
    expect(argsOf(runtime, 'USER')).toEqual(['node']);
    expect(keywords.lastIndexOf('RUN')).toBeLessThan(keywords.indexOf('USER'));
  });

  it('declares the volumes, the ops port, a health check, SIGTERM and the start command', () => {
    expect(argsOf(runtime, 'VOLUME')).toEqual(['["/app/commands","/app/templates","/app/data"]']);
    expect(argsOf(runtime, 'ENV').join(' ')).toContain('COMFYCORD_HTTP_PORT=8080');
    expect(argsOf(runtime, 'HEALTHCHECK')[0]).toMatch(/ CMD node dist\/src\/ops\/healthcheck\.js$/);
    expect(argsOf(runtime, 'STOPSIGNAL')).toEqual(['SIGTERM']);
    expect(argsOf(runtime, 'CMD').map(words)).toEqual([['node', '--max-semi-space-size=8', '--liftoff-only', '--expose-gc', 'dist/src/cli/index.js', 'start']]);
  });

  it('runs the bot the way npm start does: its environment in ENV, its node flags and script in CMD', () => {
    const start = parseStartCommand((JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start);
    expect(start.env).toEqual({ MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '131072' });
    const env = argsOf(runtime, 'ENV').join(' ');
    for (const [name, value] of Object.entries(start.env)) expect(env).toMatch(new RegExp(`(^| )${name}=${value}( |$)`));
    expect(argsOf(runtime, 'CMD').map(words)).toEqual([['node', ...start.nodeFlags, start.script, ...start.args]]);
  });
});

describe('scripts/docker-build-check.sh follows the Dockerfile', () => {
  it('copies the same directories into the runtime tree', () => {
    const copied = argsOf(runtime, 'COPY')
      .filter((args) => !args.startsWith('--from') && !args.startsWith('package'))
      .map((args) => args.split(' ')[0]);
    expect(scriptArray('RUNTIME_DIRS')).toEqual(copied);
  });

  it('runs the HEALTHCHECK command and the CMD', () => {
    const healthcheck = (argsOf(runtime, 'HEALTHCHECK')[0] as string).split(' CMD ')[1] as string;
    expect(scriptArray('HEALTHCHECK_CMD')).toEqual(words(healthcheck));
    expect(scriptArray('START_CMD')).toEqual(words(argsOf(runtime, 'CMD')[0] as string));
  });

  it('builds with npm run build and prunes with --omit=dev, like the build stage', () => {
    expect(script).toContain('npm run build');
    expect(script).toMatch(/npm prune --omit=dev/);
  });

  it('runs its checks as a non-root user, like USER node', () => {
    expect(script).toMatch(/setpriv --reuid=nobody/);
  });

  it('runs its checks with the runtime stage\'s ENV', () => {
    const inApp = /^in_app\(\) \{.*$/m.exec(script)?.[0] ?? '';
    for (const assignment of argsOf(runtime, 'ENV').join(' ').split(' ').filter((a) => !a.startsWith('COMFYCORD_'))) {
      expect(inApp).toContain(` ${assignment} `);
    }
  });

  it('expects the same missing-token line as the start command', async () => {
    const { MISSING_TOKEN } = await import('../../src/cli/start.js');
    expect(script).toContain(`MISSING_TOKEN='${MISSING_TOKEN}'`);
  });
});
