import pino, { type Logger, type LoggerOptions as PinoOptions } from 'pino';
import { Redactor } from './redact.ts';

/** Paths never printed, whatever a caller logs: credentials in headers and config. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.password',
  '*.secret',
  '*.token',
];

export interface LoggerOptions {
  level?: string;
  /** Where lines go; default stdout, written asynchronously so logging never blocks requests. */
  destination?: pino.DestinationStream;
  /** Masks secrets at any depth of every logged object (default: the built-in lists). */
  redactor?: Redactor;
  /** Fields on every line besides `service` (e.g. worker id and pid). */
  bindings?: Record<string, unknown>;
}

/**
 * The pino options of every Sluice logger: ISO time, level labels, the fixed REDACT_PATHS, and a
 * log hook that walks each logged object through the redactor (header names, query parameters and
 * body fields at any depth, case-insensitively; its lists change with the config). Message strings
 * get their query parameters masked too.
 */
export function loggerOptions(level: string, redactor: Redactor, bindings: Record<string, unknown> = {}): PinoOptions {
  return {
    level,
    base: { service: 'sluice', ...bindings },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => redactor.redact(object),
    },
    hooks: {
      logMethod(args, method) {
        for (let i = 0; i < args.length; i++) {
          const arg: unknown = args[i];
          if (typeof arg === 'string') (args as unknown[])[i] = redactor.maskString(arg);
        }
        return method.apply(this, args);
      },
    },
  };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? pino.destination({ dest: 1, sync: false, maxLength: 16 * 1024 * 1024 });
  return pino(loggerOptions(options.level ?? 'info', options.redactor ?? new Redactor(), options.bindings), destination);
}

/** Flush buffered log lines (before exit). */
export function flushLogger(logger: Logger): void {
  try {
    logger.flush();
  } catch {
    // a destination that cannot flush synchronously has nothing buffered we could save
  }
}
