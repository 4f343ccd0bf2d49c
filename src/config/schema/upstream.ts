import { Type, type Static } from '@sinclair/typebox';
import { duration, name, secret } from './common.ts';
import { CircuitBreakerSchema, UpstreamLimitsSchema } from './resilience.ts';

export const TargetSchema = Type.Object(
  {
    url: Type.String({
      pattern: '^(http|https|h2c)://',
      description: 'Target base URL: http://host:port, https://host:port or h2c://host:port (HTTP/2 cleartext; a path prefix is allowed)',
    }),
    weight: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000, default: 1, description: 'Relative weight (0 = drained)' })),
  },
  { additionalProperties: false },
);
export type TargetConfig = Static<typeof TargetSchema>;

export const HashKeySchema = Type.Object(
  {
    source: Type.Union([Type.Literal('header'), Type.Literal('cookie'), Type.Literal('query'), Type.Literal('path'), Type.Literal('ip')], {
      description: 'Where the hash key comes from',
    }),
    name: Type.Optional(Type.String({ minLength: 1, description: 'Header, cookie or query parameter name (required for those sources)' })),
  },
  { additionalProperties: false },
);
export type HashKeyConfig = Static<typeof HashKeySchema>;

export const BalancerSchema = Type.Object(
  {
    algorithm: Type.Optional(Type.Union(
      [
        Type.Literal('round-robin'),
        Type.Literal('weighted-round-robin'),
        Type.Literal('least-connections'),
        Type.Literal('random'),
        Type.Literal('p2c'),
        Type.Literal('ip-hash'),
        Type.Literal('consistent-hash'),
      ],
      { default: 'round-robin', description: 'Load-balancing algorithm' },
    )),
    hashOn: Type.Optional(HashKeySchema),
    ring: Type.Optional(
      Type.Union([Type.Literal('maglev'), Type.Literal('ketama')], { default: 'maglev', description: 'Consistent-hash table (consistent-hash only)' }),
    ),
  },
  { additionalProperties: false },
);
export type BalancerConfig = Static<typeof BalancerSchema>;

export const UpstreamTimeoutsSchema = Type.Object(
  {
    connect: Type.Optional(duration({ default: '5s', description: 'Time to establish a connection to a target' })),
    response: Type.Optional(duration({ default: '60s', description: 'Time from request sent to response head received (504 beyond)' })),
    bodyIdle: Type.Optional(duration({ default: '60s', description: 'Longest pause between two response body chunks' })),
  },
  { additionalProperties: false },
);
export type UpstreamTimeoutsConfig = Static<typeof UpstreamTimeoutsSchema>;

export const UpstreamTlsSchema = Type.Object(
  {
    rejectUnauthorized: Type.Optional(Type.Boolean({ default: true, description: 'Verify https targets\' certificates' })),
    servername: Type.Optional(Type.String({ description: 'SNI name sent to https targets, also the name their certificate is checked against (default: the target host when it is a name)' })),
    ca: Type.Optional(secret({ description: 'PEM bundle of CA certificates trusted for https targets; when set it REPLACES the system roots (Node semantics)' })),
    cert: Type.Optional(secret({ description: 'PEM client certificate chain presented to https targets that require one (upstream mTLS); needs `key`' })),
    key: Type.Optional(secret({ description: 'PEM private key of `cert`' })),
    minVersion: Type.Optional(Type.Union([Type.Literal('TLSv1.2'), Type.Literal('TLSv1.3')], { default: 'TLSv1.2', description: 'Lowest TLS version offered to https targets' })),
  },
  { additionalProperties: false },
);
export type UpstreamTlsConfig = Static<typeof UpstreamTlsSchema>;


const percent = (options: { default: number; description: string }) => Type.Integer({ minimum: 0, maximum: 100, ...options });

export const HealthCheckSchema = Type.Object(
  {
    // Required (no default): an absent `healthCheck` must stay absent, i.e. no active checks.
    type: Type.Union([Type.Literal('http'), Type.Literal('tcp'), Type.Literal('grpc')], {
      description: 'Required. http: a request whose status (and optionally body) must match; tcp: a connection opens; grpc: grpc.health.v1.Health/Check answers SERVING (h2c, or TLS for https targets)',
    }),
    interval: Type.Optional(duration({ default: '5s', description: 'Time between two checks of a target' })),
    timeout: Type.Optional(duration({ default: '2s', description: 'A check not finished in this time fails' })),
    jitter: Type.Optional(duration({ default: '1s', description: 'Random extra delay (0…jitter) added to each interval, so checks of many targets spread out' })),
    healthyThreshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 2, description: 'Consecutive passing checks that make an unhealthy target healthy (the first check of a new target needs one)' })),
    unhealthyThreshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 3, description: 'Consecutive failing checks that make a healthy target unhealthy' })),
    path: Type.Optional(Type.String({ pattern: '^/', default: '/', description: 'http: request path (with query) of the check' })),
    method: Type.Optional(Type.Union([Type.Literal('GET'), Type.Literal('HEAD'), Type.Literal('OPTIONS'), Type.Literal('POST')], { default: 'GET', description: 'http: request method' })),
    host: Type.Optional(Type.String({ minLength: 1, description: 'http: Host header (default: the target host:port)' })),
    headers: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$' }), Type.String(), { description: 'http: extra request headers' })),
    expectedStatuses: Type.Optional(
      Type.Array(Type.Union([Type.Integer({ minimum: 100, maximum: 599 }), Type.String({ pattern: '^[1-5][0-9]{2}-[1-5][0-9]{2}$' })]), {
        minItems: 1,
        default: ['200-399'],
        description: 'http: statuses that pass, as codes or "from-to" ranges',
      }),
    ),
    body: Type.Optional(
      Type.Object(
        {
          contains: Type.Optional(Type.String({ minLength: 1, description: 'The body (first 64 KiB) must contain this text' })),
          regex: Type.Optional(Type.String({ minLength: 1, description: 'The body (first 64 KiB) must match this regular expression' })),
        },
        { additionalProperties: false, description: 'http: body match' },
      ),
    ),
    service: Type.Optional(Type.String({ default: '', description: 'grpc: service name asked about ("" = the server as a whole)' })),
  },
  { additionalProperties: false },
);
export type HealthCheckConfig = Static<typeof HealthCheckSchema>;

export const OutlierDetectionSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ default: true, description: 'Passive outlier ejection is on by default for every upstream' })),
    consecutive5xx: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, default: 0, description: 'Eject after this many consecutive 5xx responses or gateway failures (0 = off)' })),
    consecutiveGatewayErrors: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 1000, default: 5, description: 'Eject after this many consecutive gateway failures: connect failure, reset, timeout, 502/503/504 (0 = off)' }),
    ),
    baseEjectionTime: Type.Optional(duration({ default: '5s', description: 'Ejection time, multiplied by the number of times the target was ejected in a row' })),
    maxEjectionTime: Type.Optional(duration({ default: '30s', description: 'Longest ejection' })),
    maxEjectionPercent: Type.Optional(percent({ default: 50, description: 'Never eject more than this share of the upstream\'s targets (rounded down)' })),
  },
  { additionalProperties: false },
);
export type OutlierDetectionConfig = Static<typeof OutlierDetectionSchema>;

export const UpstreamSchema = Type.Object(
  {
    name: name({ description: 'Unique upstream name, referenced by routes' }),
    targets: Type.Array(TargetSchema, { minItems: 1, description: 'Targets requests are balanced over' }),
    protocol: Type.Optional(
      Type.Union([Type.Literal('http1'), Type.Literal('http2')], {
        description:
          'Upstream HTTP version: http1 (default), or http2 — h2c prior knowledge for http:// targets, TLS with ALPN h2 for https://; h2c:// targets imply http2',
      }),
    ),
    balancer: Type.Optional(BalancerSchema),
    pool: Type.Optional(
      Type.Object(
        {
          connections: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, default: 128, description: 'Most open connections per target (http2: most sessions, opened only when the others are at their stream limit)' })),
          keepAlive: Type.Optional(duration({ default: '4s', description: 'How long an idle upstream connection is kept; keep below the target\'s own keep-alive timeout' })),
          client: Type.Optional(
            Type.Union([Type.Literal('native'), Type.Literal('undici')], {
              default: 'native',
              description: 'Upstream HTTP/1.1 client: the built-in keep-alive client on raw sockets (native), or undici\'s Pool (http2 upstreams always use the HTTP/2 client)',
            }),
          ),
          ping: Type.Optional(
            duration({
              description:
                'HTTP/2 upstreams: send a PING on each session this often and close a session whose previous PING is still unanswered (a silently dead peer); off when absent',
            }),
          ),
          pipelining: Type.Optional(Type.Integer({ minimum: 1, maximum: 1, default: 1, description: 'Requests in flight per connection (pipelining is off: 1)' })),
        },
        { additionalProperties: false },
      ),
    ),
    timeouts: Type.Optional(UpstreamTimeoutsSchema),
    hostHeader: Type.Optional(
      Type.Union([Type.Literal('preserve'), Type.Literal('target')], {
        default: 'preserve',
        description: 'Host header sent upstream: the client\'s (preserve) or the target\'s host:port (target)',
      }),
    ),
    tls: Type.Optional(UpstreamTlsSchema),
    healthCheck: Type.Optional(HealthCheckSchema),
    outlierDetection: Type.Optional(OutlierDetectionSchema),
    panicThreshold: Type.Optional(
      percent({ default: 50, description: 'When fewer than this percentage of targets are healthy (checks, ejection), route to all targets not forced down or drained (0 = never)' }),
    ),
    circuitBreaker: Type.Optional(CircuitBreakerSchema),
    limits: Type.Optional(UpstreamLimitsSchema),
  },
  { additionalProperties: false },
);
export type UpstreamConfig = Static<typeof UpstreamSchema>;
