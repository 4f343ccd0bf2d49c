import pino, { type Logger } from 'pino';

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
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? pino.destination({ dest: 1, sync: false });
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'sluice' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** Flush buffered log lines (before exit). */
export function flushLogger(logger: Logger): void {
  try {
    logger.flush();
  } catch {
    // a destination that cannot flush synchronously has nothing buffered we could save
  }
}
