import { Type, type Static } from '@sinclair/typebox';
import { duration, name, secret, size } from './common.ts';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LEVELS)[number];
export const logLevel = (description: string, fallback?: LogLevel) =>
  Type.Union(
    LEVELS.map((l) => Type.Literal(l)),
    fallback === undefined ? { description } : { default: fallback, description },
  );

/** Module names a level can be set for (child loggers carry `module`). */
export const LOG_MODULES = ['gateway', 'proxy', 'config', 'admin', 'plugins', 'upstream', 'cluster', 'sinks', 'tracing'] as const;
export type LogModule = (typeof LOG_MODULES)[number];

export const AccessLogSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ default: true, description: 'Write one access-log line per request' })),
    format: Type.Optional(
      Type.Union([Type.Literal('json'), Type.Literal('combined')], {
        default: 'json',
        description: 'json: one structured line per request; combined: the Apache/nginx combined text line plus request id, duration and route',
      }),
    ),
    sampleRate: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, default: 1, description: 'Fraction of requests logged (1 = all); errors are always logged when `alwaysLogErrors` is on' }),
    ),
    alwaysLogErrors: Type.Optional(Type.Boolean({ default: true, description: 'Log every request with status ≥ 500 or a gateway error code, whatever the sample rate' })),
    requestHeaders: Type.Optional(
      Type.Array(Type.String({ pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$' }), { description: 'Request headers to include (json format); redacted ones show as [redacted]' }),
    ),
    query: Type.Optional(Type.Boolean({ default: false, description: 'Include the query string, with redacted parameters masked' })),
  },
  { additionalProperties: false },
);
export type AccessLogConfig = Static<typeof AccessLogSchema>;

export const RedactSchema = Type.Object(
  {
    headers: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description: 'Header names masked in every log line, in addition to authorization, proxy-authorization, cookie, set-cookie and x-api-key',
      }),
    ),
    queryParams: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description: 'Query parameters masked in logged URLs, in addition to access_token, api_key, apikey, token, password and secret',
      }),
    ),
    bodyFields: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { description: 'JSON field names masked at any depth in logged objects (e.g. password, creditCard)' }),
    ),
  },
  { additionalProperties: false },
);
export type RedactConfig = Static<typeof RedactSchema>;

const BatchSchema = Type.Object(
  {
    maxBatchLines: Type.Optional(Type.Integer({ minimum: 1, default: 500, description: 'Lines per request at most' })),
    maxBatchBytes: Type.Optional(size({ default: '1mb', description: 'Bytes per request at most' })),
    flushInterval: Type.Optional(duration({ default: '1s', description: 'Send at least this often' })),
    maxQueueLines: Type.Optional(Type.Integer({ minimum: 1, default: 10000, description: 'Lines held while the destination is slow or down; beyond, new lines are dropped and counted' })),
    maxRetries: Type.Optional(Type.Integer({ minimum: 0, default: 5, description: 'Retries of a failed batch (exponential backoff with jitter)' })),
    timeout: Type.Optional(duration({ default: '10s', description: 'Per-request timeout' })),
  },
  { additionalProperties: false, description: 'Batching, memory bound and retry policy' },
);

const streams = Type.Optional(
  Type.Array(Type.Union([Type.Literal('access'), Type.Literal('app')]), {
    minItems: 1,
    description: 'Which logs go to this sink: access lines, application logs, or both (default)',
  }),
);
const sinkName = Type.Optional(name({ description: 'Sink name in metrics and errors (default: the type, numbered when repeated)' }));

export const SinkSchema = Type.Union(
  [
    Type.Object({ type: Type.Literal('stdout'), name: sinkName, streams }, { additionalProperties: false }),
    Type.Object(
      {
        type: Type.Literal('file'),
        name: sinkName,
        streams,
        path: Type.String({ minLength: 1, description: 'Log file (relative to the working directory); in multi-process mode each worker writes `<path>.w<N>`' }),
        maxSize: Type.Optional(size({ default: '100mb', description: 'Rotate before the file passes this size (0: never by size)' })),
        interval: Type.Optional(Type.Union([Type.Literal('hourly'), Type.Literal('daily')], { description: 'Also rotate when the UTC hour/day changes' })),
        keep: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, default: 7, description: 'Rotated files kept' })),
        compress: Type.Optional(Type.Boolean({ default: false, description: 'gzip rotated files in the background' })),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        type: Type.Literal('elasticsearch'),
        name: sinkName,
        streams,
        url: Type.String({ format: 'uri', description: 'Cluster URL (Elasticsearch or OpenSearch), e.g. https://es:9200' }),
        index: Type.String({ minLength: 1, description: 'Index or data stream; %Y %m %d %H expand from each line\'s time (UTC)' }),
        username: Type.Optional(Type.String()),
        password: Type.Optional(secret({ description: 'Basic-auth password' })),
        apiKey: Type.Optional(secret({ description: 'API key (Authorization: ApiKey …), instead of username/password' })),
        gzip: Type.Optional(Type.Boolean({ default: false })),
        batch: Type.Optional(BatchSchema),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        type: Type.Literal('splunk'),
        name: sinkName,
        streams,
        url: Type.String({ format: 'uri', description: 'HEC base URL, e.g. https://splunk:8088' }),
        token: secret({ description: 'HEC token' }),
        index: Type.Optional(Type.String()),
        source: Type.Optional(Type.String({ default: 'sluice' })),
        sourcetype: Type.Optional(Type.String({ default: '_json' })),
        gzip: Type.Optional(Type.Boolean({ default: false })),
        batch: Type.Optional(BatchSchema),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        type: Type.Literal('cloudwatch'),
        name: sinkName,
        streams,
        region: Type.String({ pattern: '^[a-z0-9-]+$', description: 'AWS region' }),
        logGroup: Type.String({ minLength: 1 }),
        logStream: Type.String({ minLength: 1, description: 'Log stream (created when missing); in multi-process mode each worker appends `-w<N>`' }),
        accessKeyId: Type.Optional(secret({ description: 'Default: AWS_ACCESS_KEY_ID' })),
        secretAccessKey: Type.Optional(secret({ description: 'Default: AWS_SECRET_ACCESS_KEY' })),
        sessionToken: Type.Optional(secret({ description: 'Default: AWS_SESSION_TOKEN' })),
        endpoint: Type.Optional(Type.String({ format: 'uri', description: 'Override https://logs.<region>.amazonaws.com (VPC endpoints, LocalStack)' })),
        batch: Type.Optional(BatchSchema),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        type: Type.Literal('http'),
        name: sinkName,
        streams,
        url: Type.String({ format: 'uri', description: 'Receives POSTs of NDJSON batches (Vector, Fluent Bit, Logstash http input…)' }),
        headers: Type.Optional(Type.Record(Type.String(), secret(), { description: 'Extra request headers (values may be secrets)' })),
        gzip: Type.Optional(Type.Boolean({ default: false })),
        batch: Type.Optional(BatchSchema),
      },
      { additionalProperties: false },
    ),
  ],
  { description: 'A log destination' },
);
export type SinkConfig = Static<typeof SinkSchema>;

export const DEFAULT_LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const MetricsSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ default: true, description: 'Record per-request metrics (served at /metrics on the admin listener)' })),
    latencyBuckets: Type.Optional(
      Type.Array(Type.Number({ exclusiveMinimum: 0 }), {
        minItems: 1,
        maxItems: 50,
        description: `Histogram bucket upper bounds in seconds, ascending (default ${DEFAULT_LATENCY_BUCKETS.join(', ')})`,
      }),
    ),
    maxRouteLabels: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100000, default: 1000, description: 'Distinct route (and upstream) label values; the rest are counted under "__overflow__"' }),
    ),
    maxTargetLabels: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100000, default: 1000, description: 'Distinct target label values in target gauges; beyond, targets are not exported one by one' }),
    ),
  },
  { additionalProperties: false },
);
export type MetricsConfig = Static<typeof MetricsSchema>;

export const TracingSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ default: false, description: 'Record and export OpenTelemetry spans' })),
    endpoint: Type.Optional(Type.String({ format: 'uri', default: 'http://127.0.0.1:4318/v1/traces', description: 'OTLP/HTTP traces endpoint (collector, Jaeger, Tempo, Zipkin with OTLP)' })),
    protocol: Type.Optional(Type.Union([Type.Literal('http/protobuf'), Type.Literal('http/json')], { default: 'http/protobuf', description: 'OTLP/HTTP encoding' })),
    headers: Type.Optional(Type.Record(Type.String(), secret(), { description: 'Extra export request headers (e.g. an API key)' })),
    serviceName: Type.Optional(Type.String({ minLength: 1, default: 'sluice', description: 'service.name resource attribute' })),
    resourceAttributes: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Extra resource attributes (deployment.environment, …)' })),
    sampleRatio: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, default: 1, description: 'Share of new traces sampled; requests with a parent follow the parent\'s decision (parent-based)' }),
    ),
    propagators: Type.Optional(
      Type.Array(Type.Union([Type.Literal('tracecontext'), Type.Literal('b3'), Type.Literal('b3multi')]), {
        minItems: 1,
        description: 'Header formats extracted and injected (default tracecontext: traceparent/tracestate)',
      }),
    ),
    exportTimeout: Type.Optional(duration({ default: '10s', description: 'Per-export request timeout' })),
    maxQueueSize: Type.Optional(Type.Integer({ minimum: 1, default: 2048, description: 'Finished spans held for export; beyond, spans are dropped and counted' })),
    maxExportBatchSize: Type.Optional(Type.Integer({ minimum: 1, default: 128, description: 'Spans per export request (each batch is encoded in one step on the event loop, ~9 µs per span)' })),
    scheduledDelay: Type.Optional(duration({ default: '5s', description: 'Longest wait before a partial batch is exported' })),
  },
  { additionalProperties: false },
);
export type TracingConfig = Static<typeof TracingSchema>;

export const ObservabilitySchema = Type.Object(
  {
    logLevel: Type.Optional(logLevel('Log level', 'info')),
    moduleLevels: Type.Optional(
      Type.Object(Object.fromEntries(LOG_MODULES.map((m) => [m, Type.Optional(logLevel(`Level for the ${m} module`))])), {
        additionalProperties: false,
        description: `Per-module log levels overriding logLevel; also settable at runtime via PUT /admin/log-level`,
      }),
    ),
    accessLog: Type.Optional(
      Type.Union([Type.Boolean(), AccessLogSchema], { default: true, description: 'Access log: true/false, or its settings (on by default, JSON)' }),
    ),
    redact: Type.Optional(RedactSchema),
    sinks: Type.Optional(Type.Array(SinkSchema, { description: 'Log destinations, several at once (default: stdout only)' })),
    metrics: Type.Optional(MetricsSchema),
    tracing: Type.Optional(TracingSchema),
  },
  { additionalProperties: false },
);
export type ObservabilityConfig = Static<typeof ObservabilitySchema>;
