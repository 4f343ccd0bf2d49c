import { Type, type Static } from '@sinclair/typebox';
import { duration, name, pluginMap, secret } from './common.ts';
import { ListenerSchema } from './listener.ts';
import { ObservabilitySchema } from './observability.ts';
import { RouteSchema } from './route.ts';
import { UpstreamSchema } from './upstream.ts';
import { OverloadSchema } from './resilience.ts';

export const ConsumerSchema = Type.Object(
  {
    name: name({ description: 'Unique consumer name' }),
    tags: Type.Optional(Type.Array(Type.String())),
    plugins: Type.Optional(pluginMap({ description: 'Plugins applied to requests of this consumer' })),
  },
  { additionalProperties: false },
);
export type ConsumerConfig = Static<typeof ConsumerSchema>;

export const AdminTokenSchema = Type.Object(
  {
    name: name({ description: 'Token name (the actor in the audit log)' }),
    role: Type.Union([Type.Literal('viewer'), Type.Literal('operator'), Type.Literal('admin')], { description: 'Role granted' }),
    token: Type.Optional(secret({ description: 'The bearer token; hashed at load, never kept or logged in clear' })),
    sha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 (hex) of the bearer token, instead of `token`' })),
  },
  { additionalProperties: false },
);

export const AdminJwtSchema = Type.Object(
  {
    secret: Type.Optional(secret({ description: 'HMAC key (HS256/384/512)' })),
    publicKey: Type.Optional(secret({ description: 'PEM public key (RS*/ES*/EdDSA)' })),
    issuer: Type.Optional(Type.String({ description: 'Required `iss`' })),
    audience: Type.Optional(Type.String({ description: 'Required `aud`' })),
    roleClaim: Type.Optional(Type.String({ default: 'role', description: 'Claim holding the role (viewer, operator or admin)' })),
  },
  { additionalProperties: false },
);

export const AdminSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ default: true, description: 'Serve the admin listener' })),
    host: Type.Optional(Type.String({ default: '127.0.0.1', description: 'Admin bind address (loopback by default)' })),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, default: 9901, description: 'Admin port' })),
    tokens: Type.Optional(Type.Array(AdminTokenSchema, { description: 'Static bearer tokens, each with a role' })),
    jwt: Type.Optional(AdminJwtSchema),
    rateLimit: Type.Optional(
      Type.Object(
        { requestsPerMinute: Type.Optional(Type.Integer({ minimum: 1, default: 600, description: 'Admin requests per client address per minute (429 beyond)' })) },
        { additionalProperties: false },
      ),
    ),
    stateDir: Type.Optional(Type.String({ default: '.sluice', description: 'Directory for config history, audit log and registered targets (relative to the working directory)' })),
    historyLimit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 50, description: 'Config versions kept' })),
  },
  { additionalProperties: false },
);
export type AdminConfig = Static<typeof AdminSchema>;

export const PluginsSchema = Type.Object(
  {
    paths: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Third-party plugin modules to load (relative to the config file)' })),
    global: Type.Optional(pluginMap({ description: 'Plugins applied to every route (a route\'s own config for the same plugin wins)' })),
  },
  { additionalProperties: false },
);
export type PluginsConfig = Static<typeof PluginsSchema>;

export const ProxySchema = Type.Object(
  {
    via: Type.Optional(Type.Boolean({ default: false, description: 'Add a Via header (RFC 9110 §7.6.3) both ways' })),
    forwarded: Type.Optional(Type.Boolean({ default: false, description: 'Add an RFC 7239 Forwarded header upstream' })),
    xForwarded: Type.Optional(Type.Boolean({ default: true, description: 'Add X-Forwarded-For/-Proto/-Host/-Port upstream' })),
  },
  { additionalProperties: false },
);
export type ProxyConfig = Static<typeof ProxySchema>;

export const ShutdownSchema = Type.Object(
  {
    drainDelay: Type.Optional(duration({ default: '0s', description: 'After SIGTERM, time /readyz reports 503 before listeners stop accepting (load balancers notice); use ~5s on Kubernetes' })),
    deadline: Type.Optional(duration({ default: '30s', description: 'Longest time in-flight requests get to finish before they are cut' })),
  },
  { additionalProperties: false },
);
export type ShutdownConfig = Static<typeof ShutdownSchema>;

export const ConfigSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    listeners: Type.Array(ListenerSchema, { minItems: 1, description: 'Public listeners' }),
    upstreams: Type.Optional(Type.Array(UpstreamSchema, { default: [], description: 'Upstreams (named target pools)' })),
    routes: Type.Optional(Type.Array(RouteSchema, { default: [], description: 'Routes, matched per request' })),
    consumers: Type.Optional(Type.Array(ConsumerSchema, { default: [], description: 'API consumers (identities used by auth plugins)' })),
    plugins: Type.Optional(PluginsSchema),
    proxy: Type.Optional(ProxySchema),
    admin: Type.Optional(AdminSchema),
    observability: Type.Optional(ObservabilitySchema),
    shutdown: Type.Optional(ShutdownSchema),
    overload: Type.Optional(OverloadSchema),
    workers: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: 256 }), Type.Literal('auto')], {
        description: 'Processes serving traffic on the same ports (auto: one per core); read at start, `--workers` wins; changing it needs a restart',
      }),
    ),
  },
  { additionalProperties: false, title: 'Sluice configuration' },
);
export type SluiceConfig = Static<typeof ConfigSchema>;
