import type { ServerResponse } from 'node:http';
import type { ErrorCode } from '../errors/codes.ts';
import type { GatewayError } from '../errors/index.ts';

/**
 * gRPC semantics the gateway needs, as small pure functions: request detection, the
 * gateway-error → gRPC status table, grpc-timeout parsing/formatting, grpc-message encoding and
 * trailers-only error responses (gRPC clients read statuses, never HTTP error pages).
 */

export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export type GrpcKind = 'grpc' | 'grpc-web' | 'grpc-web-text';

/**
 * What kind of gRPC request a content-type announces (parameters and `+proto`/`+json` suffixes
 * allowed), or undefined for anything else. Called once per request.
 */
export function grpcKind(contentType: string | undefined): GrpcKind | undefined {
  if (contentType === undefined || contentType.length < 16) return undefined;
  const ct = contentType.toLowerCase();
  if (!ct.startsWith('application/grpc')) return undefined;
  const rest = ct.slice(16);
  const end = (s: string): boolean => s === '' || s[0] === '+' || s[0] === ';';
  if (end(rest)) return 'grpc';
  if (rest.startsWith('-web-text')) return end(rest.slice(9)) ? 'grpc-web-text' : undefined;
  if (rest.startsWith('-web')) return end(rest.slice(4)) ? 'grpc-web' : undefined;
  return undefined;
}

/**
 * Every gateway error code as a gRPC status. Follows the gRPC spec's HTTP→gRPC table
 * (doc/http-grpc-status-mapping.md) and Envoy's choices where the gateway knows more than the
 * HTTP status: a timeout is DEADLINE_EXCEEDED, not the UNAVAILABLE a bare 504 would give.
 */
/** Exhaustive on purpose; undefined = derive from the HTTP status (grpcStatusOfHttp). */
const BY_CODE: Record<ErrorCode, number | undefined> = {
  SLUICE_ERR_BAD_REQUEST: GrpcStatus.INTERNAL,
  SLUICE_ERR_AMBIGUOUS_FRAMING: GrpcStatus.INTERNAL,
  SLUICE_ERR_BAD_HOST: GrpcStatus.INTERNAL,
  SLUICE_ERR_UPGRADE_NOT_ALLOWED: GrpcStatus.INTERNAL,
  SLUICE_ERR_WEBSOCKET_HANDSHAKE: GrpcStatus.INTERNAL,
  SLUICE_ERR_ROUTE_NOT_FOUND: GrpcStatus.UNIMPLEMENTED,
  SLUICE_ERR_METHOD_NOT_ALLOWED: GrpcStatus.UNIMPLEMENTED,
  SLUICE_ERR_REQUEST_TIMEOUT: GrpcStatus.DEADLINE_EXCEEDED,
  SLUICE_ERR_BODY_TOO_LARGE: GrpcStatus.RESOURCE_EXHAUSTED,
  SLUICE_ERR_HEADERS_TOO_LARGE: GrpcStatus.RESOURCE_EXHAUSTED,
  SLUICE_ERR_CLIENT_ABORTED: GrpcStatus.CANCELLED,
  SLUICE_ERR_UPSTREAM_CONNECT: GrpcStatus.UNAVAILABLE,
  SLUICE_ERR_UPSTREAM_RESET: GrpcStatus.UNAVAILABLE,
  SLUICE_ERR_UPSTREAM_BAD_RESPONSE: GrpcStatus.INTERNAL,
  SLUICE_ERR_NO_HEALTHY_TARGET: GrpcStatus.UNAVAILABLE,
  SLUICE_ERR_NO_HEALTHY_UPSTREAM: GrpcStatus.UNAVAILABLE,
  SLUICE_ERR_UPSTREAM_TIMEOUT: GrpcStatus.DEADLINE_EXCEEDED,
  SLUICE_ERR_UPSTREAM_CONNECT_TIMEOUT: GrpcStatus.UNAVAILABLE,
  // A certificate problem is a broken link to the upstream, as Envoy reports it.
  SLUICE_ERR_UPSTREAM_TLS: GrpcStatus.UNAVAILABLE,
  SLUICE_ERR_DEADLINE_EXCEEDED: GrpcStatus.DEADLINE_EXCEEDED,
  SLUICE_ERR_INTERNAL: GrpcStatus.INTERNAL,
  SLUICE_ERR_PLUGIN_FAILED: GrpcStatus.INTERNAL,
  SLUICE_ERR_SHUTTING_DOWN: GrpcStatus.UNAVAILABLE,
  // An injected abort stands for whatever status the operator chose (503 → UNAVAILABLE, 429 → RESOURCE_EXHAUSTED).
  SLUICE_ERR_FAULT_INJECTED: undefined,
  SLUICE_ERR_CIRCUIT_OPEN: GrpcStatus.UNAVAILABLE,
  SLUICE_ERR_UPSTREAM_OVERLOADED: GrpcStatus.UNAVAILABLE,
  SLUICE_ERR_ROUTE_OVERLOADED: GrpcStatus.UNAVAILABLE,
  SLUICE_ERR_OVERLOADED: GrpcStatus.UNAVAILABLE,
  SLUICE_ERR_CONFIG_INVALID: GrpcStatus.INVALID_ARGUMENT,
  SLUICE_ERR_CONFIG_LOAD: GrpcStatus.INTERNAL,
  SLUICE_ERR_PLUGIN_LOAD: GrpcStatus.INTERNAL,
  SLUICE_ERR_ADMIN_UNAUTHORIZED: GrpcStatus.UNAUTHENTICATED,
  SLUICE_ERR_ADMIN_FORBIDDEN: GrpcStatus.PERMISSION_DENIED,
  SLUICE_ERR_ADMIN_NOT_FOUND: GrpcStatus.NOT_FOUND,
  SLUICE_ERR_ADMIN_CONFLICT: GrpcStatus.INVALID_ARGUMENT,
  SLUICE_ERR_ADMIN_VALIDATION: GrpcStatus.INVALID_ARGUMENT,
  SLUICE_ERR_ADMIN_RATE_LIMITED: GrpcStatus.RESOURCE_EXHAUSTED,
  SLUICE_ERR_ADMIN_PAYLOAD_TOO_LARGE: GrpcStatus.RESOURCE_EXHAUSTED,
};

/** HTTP status → gRPC status for answers that carry no gateway code (plugin denials, 429s). */
export function grpcStatusOfHttp(status: number): number {
  switch (status) {
    case 400:
      return GrpcStatus.INTERNAL;
    case 401:
      return GrpcStatus.UNAUTHENTICATED;
    case 403:
      return GrpcStatus.PERMISSION_DENIED;
    case 404:
      return GrpcStatus.UNIMPLEMENTED;
    case 408:
    case 504:
      return GrpcStatus.DEADLINE_EXCEEDED;
    case 413:
    case 429:
      return GrpcStatus.RESOURCE_EXHAUSTED;
    case 502:
    case 503:
      return GrpcStatus.UNAVAILABLE;
    default:
      return status >= 200 && status < 300 ? GrpcStatus.OK : GrpcStatus.UNKNOWN;
  }
}

export function grpcStatusOf(error: GatewayError): number {
  return BY_CODE[error.code] ?? grpcStatusOfHttp(error.status);
}

/**
 * Percent-encode a grpc-message (gRPC spec: every byte outside 0x20–0x7E, and '%', as %XX of
 * its UTF-8 bytes).
 */
export function encodeGrpcMessage(message: string): string {
  if (/^[\x20-\x24\x26-\x7e]*$/.test(message)) return message;
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/**
 * Parse a `grpc-timeout` value (1–8 digits and a unit H/M/S/m/u/n) to milliseconds; undefined
 * when absent or malformed (the spec says a malformed one is ignored rather than failed on).
 */
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (match === null) return undefined;
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

/** The remaining budget as a grpc-timeout value: whole ms while they fit in 8 digits, else seconds. */
export function formatGrpcTimeout(ms: number): string {
  const whole = Math.max(0, Math.ceil(ms));
  if (whole < 100_000_000) return `${whole}m`;
  return `${Math.min(99_999_999, Math.ceil(whole / 1000))}S`;
}

export function contentTypeOf(kind: GrpcKind): string {
  return kind === 'grpc' ? 'application/grpc' : kind === 'grpc-web' ? 'application/grpc-web+proto' : 'application/grpc-web-text+proto';
}

/** The message an error shows to gRPC clients: exposed detail, else the code's title. */
export function grpcMessageOf(error: GatewayError): string {
  return `${error.code}: ${error.expose && error.detail !== undefined ? error.detail : error.title}`;
}

/**
 * A trailers-only response (HTTP 200, status in the headers, no body): how gRPC — and gRPC-Web —
 * servers report an error before any message. Works on HTTP/1.1 and HTTP/2 compat responses.
 */
export function sendTrailersOnly(
  res: ServerResponse,
  kind: GrpcKind,
  status: number,
  message: string,
  extra: readonly string[],
  closeConnection: boolean,
): void {
  res.statusCode = 200;
  res.setHeader('content-type', contentTypeOf(kind));
  res.setHeader('grpc-status', String(status));
  if (message !== '') res.setHeader('grpc-message', encodeGrpcMessage(message));
  for (let i = 0; i < extra.length; i += 2) res.appendHeader(extra[i]!, extra[i + 1]!);
  if (kind !== 'grpc') res.setHeader('content-length', 0);
  // HTTP/2 forbids connection-specific headers; on HTTP/1.1 an unread body must not poison reuse.
  if (closeConnection && res.req?.httpVersionMajor !== 2) res.setHeader('connection', 'close');
  res.end();
}
