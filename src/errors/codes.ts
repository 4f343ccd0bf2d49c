/**
 * The one table of stable error codes. A code is never reused or renamed: tests, dashboards and
 * clients match on it. Add new codes at the end of their group.
 */
export type ErrorSource = 'client' | 'upstream' | 'internal' | 'config';

export interface ErrorCodeSpec {
  status: number;
  title: string;
  source: ErrorSource;
  retryable: boolean;
}

export const ERROR_CODES = {
  // client: the request itself is the problem
  SLUICE_ERR_BAD_REQUEST: { status: 400, title: 'Bad Request', source: 'client', retryable: false },
  SLUICE_ERR_AMBIGUOUS_FRAMING: { status: 400, title: 'Ambiguous Request Framing', source: 'client', retryable: false },
  SLUICE_ERR_BAD_HOST: { status: 400, title: 'Missing or Duplicate Host', source: 'client', retryable: false },
  SLUICE_ERR_UPGRADE_NOT_ALLOWED: { status: 400, title: 'Protocol Upgrade Not Allowed', source: 'client', retryable: false },
  SLUICE_ERR_ROUTE_NOT_FOUND: { status: 404, title: 'No Route Matched', source: 'client', retryable: false },
  SLUICE_ERR_METHOD_NOT_ALLOWED: { status: 405, title: 'Method Not Allowed', source: 'client', retryable: false },
  SLUICE_ERR_REQUEST_TIMEOUT: { status: 408, title: 'Request Timeout', source: 'client', retryable: false },
  SLUICE_ERR_BODY_TOO_LARGE: { status: 413, title: 'Content Too Large', source: 'client', retryable: false },
  SLUICE_ERR_HEADERS_TOO_LARGE: { status: 431, title: 'Request Header Fields Too Large', source: 'client', retryable: false },
  SLUICE_ERR_CLIENT_ABORTED: { status: 499, title: 'Client Closed Request', source: 'client', retryable: false },
  SLUICE_ERR_WEBSOCKET_HANDSHAKE: { status: 400, title: 'Invalid WebSocket Handshake', source: 'client', retryable: false },
  // upstream: the target failed us
  SLUICE_ERR_UPSTREAM_CONNECT: { status: 502, title: 'Upstream Connection Failed', source: 'upstream', retryable: true },
  SLUICE_ERR_UPSTREAM_RESET: { status: 502, title: 'Upstream Connection Reset', source: 'upstream', retryable: true },
  SLUICE_ERR_UPSTREAM_BAD_RESPONSE: { status: 502, title: 'Invalid Upstream Response', source: 'upstream', retryable: false },
  /** No longer emitted (replaced by SLUICE_ERR_NO_HEALTHY_UPSTREAM); kept so the code is never reused. */
  SLUICE_ERR_NO_HEALTHY_TARGET: { status: 503, title: 'No Healthy Target', source: 'upstream', retryable: true },
  SLUICE_ERR_NO_HEALTHY_UPSTREAM: { status: 503, title: 'No Healthy Upstream Target', source: 'upstream', retryable: true },
  SLUICE_ERR_UPSTREAM_TIMEOUT: { status: 504, title: 'Upstream Timeout', source: 'upstream', retryable: true },
  SLUICE_ERR_UPSTREAM_CONNECT_TIMEOUT: { status: 504, title: 'Upstream Connect Timeout', source: 'upstream', retryable: true },
  SLUICE_ERR_UPSTREAM_TLS: { status: 502, title: 'Upstream TLS Handshake Failed', source: 'upstream', retryable: false },
  SLUICE_ERR_DEADLINE_EXCEEDED: { status: 504, title: 'Request Deadline Exceeded', source: 'upstream', retryable: false },
  SLUICE_ERR_CIRCUIT_OPEN: { status: 503, title: 'Circuit Open', source: 'upstream', retryable: true },
  SLUICE_ERR_UPSTREAM_OVERLOADED: { status: 503, title: 'Upstream Concurrency Limit Reached', source: 'upstream', retryable: true },
  // internal: our bug or our state
  SLUICE_ERR_INTERNAL: { status: 500, title: 'Internal Gateway Error', source: 'internal', retryable: false },
  SLUICE_ERR_PLUGIN_FAILED: { status: 500, title: 'Plugin Failed', source: 'internal', retryable: false },
  SLUICE_ERR_SHUTTING_DOWN: { status: 503, title: 'Gateway Shutting Down', source: 'internal', retryable: true },
  // Deliberate: the fault-injection plugin's abort (its configured status replaces this 503).
  SLUICE_ERR_FAULT_INJECTED: { status: 503, title: 'Fault Injected', source: 'internal', retryable: false },
  SLUICE_ERR_ROUTE_OVERLOADED: { status: 503, title: 'Route Concurrency Limit Reached', source: 'internal', retryable: true },
  SLUICE_ERR_OVERLOADED: { status: 503, title: 'Gateway Overloaded', source: 'internal', retryable: true },
  // config: rejected configuration
  SLUICE_ERR_CONFIG_INVALID: { status: 400, title: 'Invalid Configuration', source: 'config', retryable: false },
  SLUICE_ERR_CONFIG_LOAD: { status: 400, title: 'Configuration Could Not Be Loaded', source: 'config', retryable: false },
  SLUICE_ERR_PLUGIN_LOAD: { status: 400, title: 'Plugin Could Not Be Loaded', source: 'config', retryable: false },
  // admin API
  SLUICE_ERR_ADMIN_UNAUTHORIZED: { status: 401, title: 'Authentication Required', source: 'client', retryable: false },
  SLUICE_ERR_ADMIN_FORBIDDEN: { status: 403, title: 'Role Not Allowed', source: 'client', retryable: false },
  SLUICE_ERR_ADMIN_NOT_FOUND: { status: 404, title: 'Admin Resource Not Found', source: 'client', retryable: false },
  SLUICE_ERR_ADMIN_CONFLICT: { status: 409, title: 'Conflict', source: 'client', retryable: false },
  SLUICE_ERR_ADMIN_VALIDATION: { status: 400, title: 'Invalid Admin Request', source: 'client', retryable: false },
  SLUICE_ERR_ADMIN_RATE_LIMITED: { status: 429, title: 'Too Many Admin Requests', source: 'client', retryable: true },
  SLUICE_ERR_ADMIN_PAYLOAD_TOO_LARGE: { status: 413, title: 'Admin Request Too Large', source: 'client', retryable: false },
} as const satisfies Record<string, ErrorCodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;
