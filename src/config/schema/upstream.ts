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
    circuitBreaker: Type.Optional(CircuitBreakerSchema),
    limits: Type.Optional(UpstreamLimitsSchema),
  },
  { additionalProperties: false },
);
export type UpstreamConfig = Static<typeof UpstreamSchema>;
