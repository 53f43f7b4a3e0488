// pino, JSON by default and readable when a terminal is attached. Secrets never reach a log line.
import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths redacted wherever they appear in a logged object. */
const REDACTED_PATHS = [
  'token',
  'apiKey',
  'api_key',
  '*.token',
  '*.apiKey',
  '*.api_key',
  '*.*.token',
  '*.*.apiKey',
  'headers.authorization',
  'headers["x-api-key"]',
  'config.discord.token',
  'config.backends[*].apiKey',
];

export interface LoggerOptions {
  level?: string;
  /** Human-readable output; defaults to whether stdout is a terminal. */
  pretty?: boolean;
  /** Destination stream (tests); default stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const pretty = options.pretty ?? Boolean(process.stdout.isTTY);
  const base = {
    level: options.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  if (options.destination) return pino(base, options.destination as pino.DestinationStream);
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss' } } });
  }
  return pino(base);
}

/** A logger that drops everything: the default for library code used without one. */
export const silentLogger: Logger = pino({ level: 'silent' });
