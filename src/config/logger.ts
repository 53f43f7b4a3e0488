// pino, JSON by default and readable when a terminal is attached. Secrets never reach a log line: every call's
// arguments and every child's bindings are sanitised (src/config/redact.ts), and every finished line is
// scrubbed once more for the configured secrets and token-shaped text, whatever the call site passed.
import { pino, type Logger, type LoggerOptions as PinoOptions } from 'pino';
import { capText, sanitizeForLog, scrubSecrets } from './redact.js';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Human-readable output; defaults to whether stdout is a terminal. */
  pretty?: boolean;
  /** Destination stream (tests); default stdout. */
  destination?: NodeJS.WritableStream;
  /** Values removed verbatim from every line: the Discord token, backend API keys. */
  secrets?: readonly (string | undefined)[];
}

/** Shorter strings are not treated as secrets: replacing them would mangle ordinary text. */
const MIN_SECRET_CHARS = 8;

function redactingOptions(secrets: readonly string[]): PinoOptions {
  return {
    hooks: {
      logMethod(args, method) {
        const [first, ...rest] = args as unknown[];
        const texts = (first instanceof Error || (typeof first === 'object' && first !== null) ? rest : args as unknown[]).map((a) =>
          typeof a === 'string' ? capText(scrubSecrets(a, secrets)) : sanitizeForLog(a, secrets),
        );
        if (first instanceof Error) {
          const err = sanitizeForLog(first, secrets) as { message?: unknown };
          // pino would take the message from the error it no longer sees.
          const message = texts.length > 0 ? texts : [typeof err.message === 'string' ? err.message : ''];
          return method.apply(this, [{ err }, ...message] as Parameters<typeof method>);
        }
        if (typeof first === 'object' && first !== null) {
          return method.apply(this, [sanitizeForLog(first, secrets), ...texts] as Parameters<typeof method>);
        }
        return method.apply(this, texts as Parameters<typeof method>);
      },
      streamWrite: (line) => scrubSecrets(line, secrets),
    },
    // Errors are already plain objects (type, message, stack, own fields, cause chain) from sanitizeForLog.
    serializers: { err: (value: unknown) => value },
  };
}

/**
 * pino applies a bindings formatter to the root's bindings only, so `child()` is wrapped instead; children are
 * created from their parent's prototype chain and inherit the wrapper.
 */
function sanitiseBindings(logger: Logger, secrets: readonly string[]): Logger {
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, sanitizeForLog(bindings, secrets) as typeof bindings, options);
  } as Logger['child'];
  return logger;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const pretty = options.pretty ?? Boolean(process.stdout.isTTY);
  const secrets = (options.secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET_CHARS);
  const base: PinoOptions = { level: options.level ?? 'info', ...redactingOptions(secrets) };
  if (options.destination) return sanitiseBindings(pino(base, options.destination as pino.DestinationStream), secrets);
  if (pretty) {
    return sanitiseBindings(pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss' } } }), secrets);
  }
  return sanitiseBindings(pino(base), secrets);
}

/** A logger that drops everything: the default for library code used without one. */
export const silentLogger: Logger = pino({ level: 'silent' });
