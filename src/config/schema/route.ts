import { Type, type Static } from '@sinclair/typebox';
import { duration, name, pluginMap, size } from './common.ts';
import { FallbackSchema, PriorityClassSchema, RouteLimitsSchema } from './resilience.ts';

/** Header or query predicate: exactly one of `exact`, `regex`, `present`. */
export const ValuePredicateSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    exact: Type.Optional(Type.String()),
    regex: Type.Optional(Type.String({ description: 'ECMAScript regular expression, tested against the whole value' })),
    present: Type.Optional(Type.Boolean({ description: 'true: must be present; false: must be absent' })),
  },
  { additionalProperties: false },
);
export type ValuePredicate = Static<typeof ValuePredicateSchema>;

export const RouteMatchSchema = Type.Object(
  {
    hosts: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Host names: exact ("api.example.com") or wildcard ("*.example.com"); any host when absent' })),
    methods: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Z]+$' }), { description: 'HTTP methods; any method when absent' })),
    paths: Type.Array(Type.String({ pattern: '^/' }), {
      minItems: 1,
      description: 'Paths: "/users/:id" (parameter), "/static/*" (wildcard, also the prefix itself), "/exact"',
    }),
    headers: Type.Optional(Type.Array(ValuePredicateSchema, { description: 'Header predicates, all must hold' })),
    query: Type.Optional(Type.Array(ValuePredicateSchema, { description: 'Query parameter predicates, all must hold' })),
  },
  { additionalProperties: false },
);
export type RouteMatchConfig = Static<typeof RouteMatchSchema>;

export const RewriteSchema = Type.Object(
  {
    stripPrefix: Type.Optional(Type.String({ pattern: '^/', description: 'Remove this prefix from the path' })),
    replacePrefix: Type.Optional(
      Type.Object({ from: Type.String({ pattern: '^/' }), to: Type.String({ pattern: '^/' }) }, { additionalProperties: false, description: 'Replace a leading prefix' }),
    ),
    regex: Type.Optional(
      Type.Object(
        { pattern: Type.String(), replacement: Type.String({ description: 'May use $1, $<name> captures' }) },
        { additionalProperties: false, description: 'Regular-expression rewrite of the path' },
      ),
    ),
    path: Type.Optional(Type.String({ pattern: '^/', description: 'Template for the upstream path; ":name" inserts a matched path parameter, "*" the wildcard' })),
  },
  { additionalProperties: false, description: 'Path rewrite applied before forwarding (query string is kept)' },
);
export type RewriteConfig = Static<typeof RewriteSchema>;

export const WeightedUpstreamSchema = Type.Object(
  { name: Type.String(), weight: Type.Integer({ minimum: 0, maximum: 10000 }) },
  { additionalProperties: false },
);

export const RouteWebSocketSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ default: true, description: 'Proxy WebSocket upgrades on this route; false answers them 400 SLUICE_ERR_UPGRADE_NOT_ALLOWED' })),
    idleTimeout: Type.Optional(duration({ default: '60s', description: 'Close the tunnel (close frame 1001 both ways) after this long with no byte in either direction; pings count as traffic; 0 disables' })),
    maxMessageSize: Type.Optional(size({ default: '16mb', description: 'Largest data message (all fragments, as sent on the wire); larger ones close the tunnel with 1009' })),
    maxFrameSize: Type.Optional(size({ description: 'Largest single frame payload; larger ones close the tunnel with 1009. Defaults to maxMessageSize' })),
  },
  { additionalProperties: false, description: 'WebSocket (RFC 6455) proxying of Upgrade requests matched by this route' },
);
export type RouteWebSocketConfig = Static<typeof RouteWebSocketSchema>;

export const RETRY_CONDITIONS = ['connect-failure', 'reset', 'timeout', '502', '503', '504', 'gateway-error', '5xx', 'grpc-unavailable', 'grpc-resource-exhausted', 'grpc-deadline-exceeded', 'grpc-aborted'] as const;

export const RouteRetrySchema = Type.Object(
  {
    attempts: Type.Optional(Type.Integer({ minimum: 0, maximum: 10, description: 'Retries after the first attempt; default 1 (0 disables retries, also the built-in one)' })),
    on: Type.Optional(
      Type.Array(Type.Union(RETRY_CONDITIONS.map((c) => Type.Literal(c))), {
        description: 'Conditions that trigger a retry: connect-failure, reset, timeout (no response head in time), 502/503/504, gateway-error (= 502, 503, 504), 5xx, grpc-<status> (grpc-status of a trailers-only answer); default connect-failure',
      }),
    ),
    methods: Type.Optional(
      Type.Array(Type.String({ pattern: '^[A-Z]+$' }), { description: 'Methods that may be retried once the request was sent; default GET HEAD OPTIONS PUT DELETE TRACE' }),
    ),
    allowNonIdempotent: Type.Optional(Type.Boolean({ description: 'Retry any method (POST, PATCH …) even after the request was sent (default false)' })),
    backoff: Type.Optional(
      Type.Object(
        {
          base: Type.Optional(duration({ description: 'First backoff ceiling; doubles each retry (full jitter: a uniform wait in [0, ceiling]) (default 25ms)' })),
          max: Type.Optional(duration({ description: 'Largest backoff ceiling (default 250ms)' })),
        },
        { additionalProperties: false },
      ),
    ),
    budget: Type.Optional(
      Type.Object(
        {
          ratio: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Retries in flight may be at most this fraction of the requests in flight to the upstream (default 0.2)' })),
          minConcurrency: Type.Optional(Type.Integer({ minimum: 0, description: 'Retries always allowed in flight whatever the ratio (low traffic) (default 3)' })),
        },
        { additionalProperties: false, description: 'Retry budget (per upstream and worker) so retries cannot amplify an outage' },
      ),
    ),
    maxReplayBody: Type.Optional(
      size({ description: 'Request bodies up to this size are kept so a retry can re-send them; larger ones stream and are not retried (default 64kb)' }),
    ),
  },
  { additionalProperties: false, description: 'Retry policy; a route without one retries once on another target when the connection failed (request not sent)' },
);
export type RouteRetryConfig = Static<typeof RouteRetrySchema>;

export const RouteSchema = Type.Object(
  {
    name: name({ description: 'Unique route name (used in metrics, logs and the admin API)' }),
    listeners: Type.Optional(Type.Array(Type.String(), { description: 'Listeners this route is served on; all when absent' })),
    match: RouteMatchSchema,
    priority: Type.Optional(Type.Integer({ default: 0, description: 'Higher wins when several routes match the same request' })),
    upstream: Type.Optional(Type.String({ description: 'Name of the upstream to forward to' })),
    upstreams: Type.Optional(Type.Array(WeightedUpstreamSchema, { minItems: 1, description: 'Weighted upstreams for traffic splitting (instead of upstream)' })),
    rewrite: Type.Optional(RewriteSchema),
    preserveHost: Type.Optional(Type.Boolean({ description: 'Overrides the upstream hostHeader setting for this route' })),
    timeouts: Type.Optional(
      Type.Object(
        {
          response: Type.Optional(duration({ description: 'Overrides the upstream response timeout' })),
          bodyIdle: Type.Optional(duration({ description: 'Overrides the upstream body idle timeout' })),
          deadline: Type.Optional(
            duration({ description: 'Overall request deadline: all attempts, backoff and the response body; 504 SLUICE_ERR_DEADLINE_EXCEEDED when it passes (0/absent: none)' }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    maxBodySize: Type.Optional(size({ description: 'Overrides the listener maxBodySize for this route' })),
    retry: Type.Optional(RouteRetrySchema),
    websocket: Type.Optional(RouteWebSocketSchema),
    limits: Type.Optional(RouteLimitsSchema),
    priorityClass: Type.Optional(PriorityClassSchema),
    fallback: Type.Optional(FallbackSchema),
    plugins: Type.Optional(pluginMap()),
  },
  { additionalProperties: false },
);
export type RouteConfig = Static<typeof RouteSchema>;
