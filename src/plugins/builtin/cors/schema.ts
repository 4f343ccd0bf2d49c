import { Type, type Static } from '@sinclair/typebox';

const list = (description: string) => Type.Array(Type.String({ minLength: 1 }), { description });

export const CorsSchema = Type.Object(
  {
    origins: Type.Optional(Type.Array(Type.String({ minLength: 1, pattern: '^(\\*|https?://[^/]+)$' }), {
      minItems: 1,
      default: ['*'],
      description:
        'Allowed origins: exact (https://app.example.com), "*" (any), or a wildcard subdomain (https://*.example.com, any depth, not the bare domain)',
    })),
    methods: Type.Optional(list('Methods allowed in preflights (default GET, HEAD, PUT, PATCH, POST, DELETE)')),
    allowedHeaders: Type.Optional(
      list('Request headers allowed in preflights; ["*"] (default) reflects the Access-Control-Request-Headers the browser asked for'),
    ),
    exposeHeaders: Type.Optional(list('Response headers scripts may read (gRPC-Web: grpc-status, grpc-message)')),
    credentials: Type.Optional(Type.Boolean({ default: false, description: 'Send Access-Control-Allow-Credentials: true (the origin is then always echoed, never "*")' })),
    maxAge: Type.Optional(Type.Integer({ minimum: 0, maximum: 86400, description: 'Seconds browsers may cache a preflight answer' })),
  },
  { additionalProperties: false, description: 'Cross-origin resource sharing: preflights answered by the gateway, CORS headers on every response' },
);
export type CorsConfig = Static<typeof CorsSchema>;
