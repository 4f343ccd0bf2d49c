import { ERROR_CODES, type ErrorCode, type ErrorSource } from './codes.ts';

export interface GatewayErrorOptions {
  detail?: string;
  /** Whether `detail` may be shown to the client. Internal errors never expose detail. */
  expose?: boolean;
  cause?: unknown;
  status?: number;
  retryable?: boolean;
  /** Extra response headers (e.g. `Allow` on 405). */
  headers?: Record<string, string>;
}

/** The single error type of the gateway: every failure that reaches a client is one of these. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly source: ErrorSource;
  readonly retryable: boolean;
  readonly expose: boolean;
  readonly detail: string | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, options: GatewayErrorOptions = {}) {
    const spec = ERROR_CODES[code];
    super(options.detail ?? spec.title, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = options.status ?? spec.status;
    this.source = spec.source;
    this.retryable = options.retryable ?? spec.retryable;
    // Upstream and internal details (addresses, system error codes) stay in logs, never in responses.
    this.expose = options.expose ?? (spec.source === 'client' || spec.source === 'config');
    this.detail = options.detail;
    this.headers = options.headers;
  }

  get title(): string {
    return ERROR_CODES[this.code].title;
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}

/** Wrap anything thrown into a GatewayError without exposing its message. */
export function toGatewayError(value: unknown, fallback: ErrorCode = 'SLUICE_ERR_INTERNAL'): GatewayError {
  if (value instanceof GatewayError) return value;
  return new GatewayError(fallback, { cause: value, expose: false });
}
