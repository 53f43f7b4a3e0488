// `comfycord start`: configuration → the app (src/main.ts) → run until SIGTERM/SIGINT → stop.
import { parseArgs } from './args.js';
import type { CliIO } from './io.js';
import { ConfigError, loadConfig } from '../config/load.js';
import { createLogger, type Logger } from '../config/logger.js';
import type { Config } from '../config/schema.js';

export const MISSING_TOKEN =
  'comfycord: DISCORD_TOKEN is not set — create a bot at https://discord.com/developers/applications and run DISCORD_TOKEN=... npm start';

/** Time stop() gets after a signal before the process is ended regardless. */
export const HARD_EXIT_MS = 10_000;

const HELP = `Usage: comfycord start

Runs the Discord bot until SIGTERM or SIGINT. Needs DISCORD_TOKEN; every other setting has a default
(see README.md). Exit codes: 0 stopped by a signal, 1 could not start, 2 configuration mistake.
`;

export interface RunningApp {
  stop(): Promise<void>;
}

export interface StartDeps {
  startApp(config: Config, logger: Logger): Promise<RunningApp>;
  createLogger(config: Config, io: CliIO): Logger;
  /** Where SIGTERM/SIGINT arrive (the process). */
  signals: Pick<NodeJS.EventEmitter, 'on' | 'off'>;
  /** Ends the process now: the last resort when stop() hangs or a second signal arrives. */
  exit(code: number): void;
}

/** The password in the job database's URL, kept out of every log line like the other secrets. */
function databasePassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

const processDeps: StartDeps = {
  // Imported on demand so that the other sub-commands, and tests, do not load the whole app.
  startApp: async (config, logger) => (await import('../main.js')).startApp(config, logger),
  createLogger: (config, io) =>
    createLogger({
      level: config.logLevel,
      pretty: io.isTTY,
      secrets: [config.discord.token, ...config.backends.map((b) => b.apiKey), databasePassword(config.databaseUrl)],
    }),
  signals: process,
  exit: (code) => process.exit(code),
};

/** main.ts's StartupError, recognised by name so this module need not import the app. */
function isStartupError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'StartupError';
}

export async function run(argv: string[], io: CliIO, deps: StartDeps = processDeps): Promise<number> {
  if (parseArgs(argv, { flags: ['help'] }).flags.has('help')) {
    io.stdout.write(HELP);
    return 0;
  }
  let config: Config;
  try {
    config = loadConfig({ env: io.env });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const line of error.problems) io.stderr.write(`comfycord: ${line}\n`);
    return 2;
  }
  if (config.discord.token === undefined) {
    io.stderr.write(`${MISSING_TOKEN}\n`);
    return 2;
  }

  const logger = deps.createLogger(config, io);
  let app: RunningApp;
  try {
    app = await deps.startApp(config, logger);
  } catch (error) {
    if (!isStartupError(error)) throw error;
    io.stderr.write(`comfycord: ${error.message}\n`);
    return 1;
  }
  return untilSignalled(app, logger, deps);
}

function untilSignalled(app: RunningApp, logger: Logger, deps: StartDeps): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    let exitCode: number | undefined;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn({ signal }, 'second signal while stopping: exiting now');
        deps.exit(1);
        return;
      }
      stopping = true;
      logger.info({ signal }, 'stopping');
      // unref: after a clean stop the process ends on its own; this fires only if stop() hangs or a stray
      // handle keeps the process alive.
      setTimeout(() => {
        if (exitCode === undefined) logger.error({ afterMs: HARD_EXIT_MS }, 'stop did not finish in time: exiting');
        else logger.warn({ afterMs: HARD_EXIT_MS }, 'stopped, but something kept the process alive: exiting');
        deps.exit(exitCode ?? 1);
      }, HARD_EXIT_MS).unref();
      app.stop().then(
        () => finish(0),
        (error: unknown) => {
          logger.error({ err: error }, 'stop failed');
          finish(1);
        },
      );
    };
    const finish = (code: number): void => {
      exitCode = code;
      // From here on a further signal gets Node's default handling: the process ends at once.
      deps.signals.off('SIGTERM', onSignal);
      deps.signals.off('SIGINT', onSignal);
      resolve(code);
    };
    deps.signals.on('SIGTERM', onSignal);
    deps.signals.on('SIGINT', onSignal);
  });
}
