import { Type, type Static } from '@sinclair/typebox';
import { duration } from './common.ts';

/** Priority classes, lowest first (their index is the level the admission queues use). */
export const PRIORITY_CLASSES = ['low', 'normal', 'high', 'critical'] as const;
export type PriorityClass = (typeof PRIORITY_CLASSES)[number];
const priorityClass = (options: { description: string }) =>
  Type.Union(PRIORITY_CLASSES.map((c) => Type.Literal(c)), options);

export const CircuitBreakerSchema = Type.Object(
  {
    window: Type.Optional(duration({ description: 'Rolling window the failure and slow-call rates are computed over (default: 10s)' })),
    buckets: Type.Optional(Type.Integer({ minimum: 1, maximum: 120, description: 'Time buckets the window is split into (old buckets drop out as time passes) (default: 10)' })),
    minRequests: Type.Optional(Type.Integer({ minimum: 1, description: 'Calls needed in the window before a rate can open the circuit (default: 10)' })),
    failureRate: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'Open when this percentage of the window\'s calls failed; 0 disables (default: 50)' })),
    consecutiveFailures: Type.Optional(Type.Integer({ minimum: 0, description: 'Open after this many failures in a row regardless of the window (0 disables) (default: 0)' })),
    slowCall: Type.Optional(
      Type.Object(
        {
          duration: duration({ description: 'A call taking at least this long is slow' }),
          rate: Type.Number({ minimum: 1, maximum: 100, description: 'Open when this percentage of the window\'s calls were slow' }),
        },
        { additionalProperties: false },
      ),
    ),
    failureStatuses: Type.Optional(
      Type.Array(Type.Integer({ minimum: 500, maximum: 599 }), { minItems: 1, description: 'Upstream statuses counted as failures (default: every 5xx); connect failures, timeouts and resets always count' }),
    ),
    openDuration: Type.Optional(duration({ description: 'Time spent open (fast 503s) before probing (half-open) (default: 5s)' })),
    halfOpenProbes: Type.Optional(Type.Integer({ minimum: 1, description: 'Concurrent probe requests admitted while half-open (default: 1)' })),
    successThreshold: Type.Optional(Type.Integer({ minimum: 1, description: 'Successful probes that close the circuit (one failed probe reopens it) (default: 1)' })),
    perTarget: Type.Optional(Type.Boolean({ description: 'Also keep one breaker per target: an open target is skipped by the balancer (default: true)' })),
  },
  { additionalProperties: false, description: 'Circuit breaker of this upstream (and of each of its targets)' },
);
export type CircuitBreakerConfig = Static<typeof CircuitBreakerSchema>;

export const UpstreamLimitsSchema = Type.Object(
  {
    maxInflight: Type.Integer({ minimum: 1, description: 'Most requests in flight to this upstream (per worker process)' }),
    maxPending: Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'Requests that may wait for a slot; beyond, 503 SLUICE_ERR_UPSTREAM_OVERLOADED at once' })),
    queueTimeout: Type.Optional(duration({ default: '1s', description: 'Longest wait for a slot (503 SLUICE_ERR_UPSTREAM_OVERLOADED beyond)' })),
  },
  { additionalProperties: false, description: 'Concurrency limit of this upstream' },
);
export type UpstreamLimitsConfig = Static<typeof UpstreamLimitsSchema>;

export const RouteLimitsSchema = Type.Object(
  {
    maxConcurrent: Type.Integer({ minimum: 1, description: 'Most requests of this route served at once (per worker process)' }),
    maxQueue: Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'Requests that may wait for a slot; beyond, 503 SLUICE_ERR_ROUTE_OVERLOADED (a higher-priority arrival displaces the newest lowest-priority waiter)' })),
    queueTimeout: Type.Optional(duration({ default: '1s', description: 'Longest wait for a slot (503 SLUICE_ERR_ROUTE_OVERLOADED beyond)' })),
  },
  { additionalProperties: false, description: 'Concurrency limit (load shedding) of this route' },
);
export type RouteLimitsConfig = Static<typeof RouteLimitsSchema>;

export const PriorityClassSchema = Type.Object(
  {
    default: Type.Optional(priorityClass({ description: 'Class of this route\'s requests when the header is absent or unknown (default: normal)' })),
    header: Type.Optional(Type.String({ minLength: 1, description: 'Request header naming the class (set it at a trusted edge or with a plugin: a client could raise its own priority)' })),
    values: Type.Optional(
      Type.Record(Type.String(), priorityClass({ description: 'Class' }), { description: 'Header value → class (default: the value is the class name itself)' }),
    ),
  },
  { additionalProperties: false, description: 'Priority class of this route\'s requests under pressure (queues serve higher classes first, shedding drops lower classes first)' },
);
export type PriorityClassConfig = Static<typeof PriorityClassSchema>;

export const FallbackSchema = Type.Object(
  {
    status: Type.Optional(Type.Integer({ minimum: 200, maximum: 599, description: 'Status of the fallback response (default: 200)' })),
    headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Headers of the fallback response' })),
    body: Type.Optional(Type.String({ description: 'Body of the fallback response' })),
    on: Type.Optional(
      Type.Array(Type.Union([Type.Literal('circuit-open'), Type.Literal('overloaded')]), {
        minItems: 1,
        description: 'When it is served: circuit-open (upstream breaker open) and/or overloaded (a route, upstream or global limit refused the request) (default: [circuit-open])',
      }),
    ),
  },
  { additionalProperties: false, description: 'Response served instead of the 503 when the upstream\'s circuit is open (or the request is shed)' },
);
export type FallbackConfig = Static<typeof FallbackSchema>;

export const OverloadSchema = Type.Object(
  {
    eventLoopLag: Type.Optional(duration({ description: 'Overloaded while the event loop\'s p99 delay over the last interval exceeds this' })),
    heapUsed: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100, description: 'Overloaded while the used heap exceeds this percentage of the heap limit' })),
    interval: Type.Optional(duration({ description: 'Sampling interval (the check is never done per request) (default: 500ms)' })),
    admitAtLeast: Type.Optional(priorityClass({ description: 'While overloaded, requests below this class get 503 SLUICE_ERR_OVERLOADED (default: high)' })),
  },
  { additionalProperties: false, description: 'Global protection: shed low-priority traffic when the process is overloaded (per worker process)' },
);
export type OverloadConfig = Static<typeof OverloadSchema>;
