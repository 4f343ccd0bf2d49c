import type { RouteRetryConfig } from '../config/schema/route.ts';
import { parseDuration, parseSize } from '../config/units.ts';
import type { ErrorCode } from '../errors/index.ts';

/**
 * Route retry policy, compiled once per config: which failures are retried, for which methods,
 * how long to wait between attempts and how many retries an upstream may carry at once.
 */

/** Why an attempt is retried; also the `reason` label of sluice_upstream_retries_total. */
export const RETRY_REASONS = ['connect_failure', 'reset', 'timeout', '502', '503', '504', '5xx', 'grpc'] as const;
export type RetryReason = (typeof RETRY_REASONS)[number];

/** Condition bits (one integer per policy: a request tests a bit, not a list). */
const Cond = { Connect: 1, Reset: 2, Timeout: 4, S502: 8, S503: 16, S504: 32, S5xx: 64 } as const;

/** gRPC status codes by their `grpc-<name>` condition. */
const GRPC_CONDITIONS: Record<string, number> = {
  'grpc-unavailable': 14,
  'grpc-resource-exhausted': 8,
  'grpc-deadline-exceeded': 4,
  'grpc-aborted': 10,
};

const DEFAULT_METHODS = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'];

export interface RetryPolicy {
  /** Retries after the first attempt (0: never retry). */
  readonly attempts: number;
  readonly conditions: number;
  /** gRPC statuses (trailers-only answers) that are retried. */
  readonly grpcStatuses: ReadonlySet<number>;
  readonly methods: ReadonlySet<string>;
  readonly allowNonIdempotent: boolean;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly budgetRatio: number;
  readonly budgetMinConcurrency: number;
  /** Request bodies up to this many bytes are buffered for a retry (0: bodies are never replayed). */
  readonly maxReplayBody: number;
  /**
   * Whether a request that reached the upstream may be sent again (a condition other than a
   * connect failure). Without it only unsent requests are retried, whose body nobody read yet: no
   * copy of the body is needed.
   */
  readonly resendsSent: boolean;
  /** Never retry on the target that just failed (the default policy: a single-target upstream is not retried). */
  readonly otherTargetOnly: boolean;
}


export function compileRetry(config: RouteRetryConfig | undefined): RetryPolicy {
  const c = config ?? {};
  let conditions = 0;
  const grpc = new Set<number>();
  for (const on of c.on ?? ['connect-failure']) {
    if (on in GRPC_CONDITIONS) grpc.add(GRPC_CONDITIONS[on]!);
    else conditions |= CONDITION_BITS[on] ?? 0;
  }
  const base = parseDuration(c.backoff?.base ?? '25ms');
  return {
    attempts: c.attempts ?? 1,
    conditions,
    grpcStatuses: grpc,
    methods: new Set(c.methods ?? DEFAULT_METHODS),
    allowNonIdempotent: c.allowNonIdempotent ?? false,
    backoffBaseMs: base,
    backoffMaxMs: Math.max(base, parseDuration(c.backoff?.max ?? '250ms')),
    budgetRatio: c.budget?.ratio ?? 0.2,
    budgetMinConcurrency: c.budget?.minConcurrency ?? 3,
    maxReplayBody: parseSize(c.maxReplayBody ?? '64kb'),
    resendsSent: (conditions & ~Cond.Connect) !== 0 || grpc.size > 0,
    otherTargetOnly: false,
  };
}

const CONDITION_BITS: Record<string, number> = {
  'connect-failure': Cond.Connect,
  reset: Cond.Reset,
  timeout: Cond.Timeout,
  '502': Cond.S502,
  '503': Cond.S503,
  '504': Cond.S504,
  'gateway-error': Cond.S502 | Cond.S503 | Cond.S504,
  '5xx': Cond.S5xx,
};

/** Failure codes → (condition, reason). Other codes (client abort, body limit, plugin) never retry. */
const ERROR_CONDITION: Partial<Record<ErrorCode, [number, RetryReason]>> = {
  SLUICE_ERR_UPSTREAM_CONNECT: [Cond.Connect, 'connect_failure'],
  SLUICE_ERR_UPSTREAM_CONNECT_TIMEOUT: [Cond.Connect, 'connect_failure'],
  SLUICE_ERR_UPSTREAM_TLS: [Cond.Connect, 'connect_failure'],
  SLUICE_ERR_UPSTREAM_RESET: [Cond.Reset, 'reset'],
  SLUICE_ERR_UPSTREAM_TIMEOUT: [Cond.Timeout, 'timeout'],
};

/** A route without `retry`: one retry on another target when the connection failed (nothing sent). */
export const DEFAULT_RETRY: RetryPolicy = { ...compileRetry({}), otherTargetOnly: true };

/** Whether the method may be sent twice (idempotent or opted in). */
export function methodRetryable(policy: RetryPolicy, method: string): boolean {
  return policy.allowNonIdempotent || policy.methods.has(method);
}

/**
 * The reason to retry an attempt that failed without a response head, or undefined. A request that
 * never reached the upstream (`requestSent` false) is safe for any method; one that did needs a
 * retryable method (`resendable`: method allowed and body replayable — decided by the caller).
 */
export function retryReasonForError(policy: RetryPolicy, code: ErrorCode, requestSent: boolean, resendable: boolean): RetryReason | undefined {
  const entry = ERROR_CONDITION[code];
  if (entry === undefined || (policy.conditions & entry[0]) === 0) return undefined;
  // A connect failure sent nothing whatever the client reports; anything else needs a resendable request.
  if (requestSent && !resendable) return undefined;
  return entry[1];
}

/** The reason to retry a response (status, or grpc-status of a trailers-only answer), or undefined. */
export function retryReasonForStatus(policy: RetryPolicy, status: number, grpcStatus: number | undefined): RetryReason | undefined {
  const c = policy.conditions;
  if (status === 502 && (c & Cond.S502) !== 0) return '502';
  if (status === 503 && (c & Cond.S503) !== 0) return '503';
  if (status === 504 && (c & Cond.S504) !== 0) return '504';
  if (status >= 500 && status <= 599 && (c & Cond.S5xx) !== 0) return '5xx';
  if (grpcStatus !== undefined && policy.grpcStatuses.has(grpcStatus)) return 'grpc';
  return undefined;
}

let jitterSource: () => number = Math.random;

/** Tests only: a deterministic source for the backoff jitter (undefined restores Math.random). */
export function setBackoffRandom(random: (() => number) | undefined): void {
  jitterSource = random ?? Math.random;
}

/** Exponential backoff with full jitter: uniform in [0, min(max, base × 2^(retry-1))]. `retry` starts at 1. */
export function backoffMs(policy: RetryPolicy, retry: number, random: () => number = jitterSource): number {
  const ceiling = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.min(retry - 1, 30));
  return Math.floor(random() * ceiling);
}

/**
 * Retry budget of one upstream (per worker): retries in flight ≤ max(minConcurrency, ratio ×
 * requests in flight), as Envoy's retry_budget. Counters are plain integers kept balanced by the
 * forwarder (request start/end, retry scheduled/ended).
 */
export class RetryBudget {
  /** Requests to this upstream being forwarded now. */
  active = 0;
  /** Retries scheduled or in flight now (backoff wait included). */
  retrying = 0;

  /** Take a retry slot if the budget allows; the caller releases it with `retrying--`. */
  tryAcquire(policy: RetryPolicy): boolean {
    const allowed = Math.max(policy.budgetMinConcurrency, policy.budgetRatio * this.active);
    if (this.retrying >= allowed) return false;
    this.retrying++;
    return true;
  }
}

/**
 * Budgets by upstream name, for the life of the process: upstreams are rebuilt on every config
 * apply, but requests in flight across a reload must keep one set of counters.
 */
const budgets = new Map<string, RetryBudget>();

export function retryBudgetFor(upstream: string): RetryBudget {
  let budget = budgets.get(upstream);
  if (budget === undefined) budgets.set(upstream, (budget = new RetryBudget()));
  return budget;
}

/** Parse an incoming X-Request-Timeout: integer milliseconds (1–8 digits); anything else is ignored. */
export function parseRequestTimeout(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string' || !/^\d{1,8}$/.test(value)) return undefined;
  const ms = Number(value);
  return ms > 0 ? ms : undefined;
}
