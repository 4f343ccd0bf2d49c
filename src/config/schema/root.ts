import { Type, type Static } from '@sinclair/typebox';
import { name, pluginMap } from './common.ts';
import { ListenerSchema } from './listener.ts';
import { RouteSchema } from './route.ts';
import { UpstreamSchema } from './upstream.ts';

export const ConsumerSchema = Type.Object(
  {
    name: name({ description: 'Unique consumer name' }),
    tags: Type.Optional(Type.Array(Type.String())),
    plugins: Type.Optional(pluginMap({ description: 'Plugins applied to requests of this consumer' })),
  },
  { additionalProperties: false },
);
export type ConsumerConfig = Static<typeof ConsumerSchema>;

export const AdminSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ default: true, description: 'Serve the admin listener' })),
    host: Type.Optional(Type.String({ default: '127.0.0.1', description: 'Admin bind address (loopback by default)' })),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, default: 9901, description: 'Admin port' })),
  },
  { additionalProperties: false },
);
export type AdminConfig = Static<typeof AdminSchema>;

export const ObservabilitySchema = Type.Object(
  {
    logLevel: Type.Optional(
      Type.Union(
        ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
        { default: 'info', description: 'Log level' },
      ),
    ),
    accessLog: Type.Optional(Type.Boolean({ default: true, description: 'Write one JSON access-log line per request' })),
  },
  { additionalProperties: false },
);
export type ObservabilityConfig = Static<typeof ObservabilitySchema>;

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
  },
  { additionalProperties: false, title: 'Sluice configuration' },
);
export type SluiceConfig = Static<typeof ConfigSchema>;
