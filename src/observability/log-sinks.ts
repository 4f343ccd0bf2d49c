import cluster from 'node:cluster';
import { resolve } from 'node:path';
import type { Secret } from '../config/schema/common.ts';
import type { SinkConfig } from '../config/schema/observability.ts';
import { parseDuration, parseSize } from '../config/units.ts';
import {
  CloudWatchSink,
  createElasticsearchSink,
  createHttpNdjsonSink,
  createSplunkHecSink,
  RotatingFileSink,
  type BatchOptions,
  type LogSink,
} from './sinks/index.ts';

export type LogStream = 'access' | 'app';

/** One configured destination, built from a `observability.sinks` entry. */
export interface ConfiguredSink {
  name: string;
  type: SinkConfig['type'];
  access: boolean;
  app: boolean;
  /** Takes JSON documents only (a combined access line is wrapped in one). */
  jsonOnly: boolean;
  /** The sink; undefined for stdout, which the gateway's own stdout writers serve. */
  sink: LogSink | undefined;
}

export interface SinkEnvironment {
  /** Cluster worker id (multi-process mode): file paths and CloudWatch streams get a per-worker suffix. */
  workerId?: number | undefined;
  env?: NodeJS.ProcessEnv;
  /** Directory a relative file path resolves against (default: the working directory). */
  cwd?: string;
}

export function currentSinkEnvironment(): SinkEnvironment {
  return { workerId: cluster.isWorker ? cluster.worker?.id : undefined, env: process.env };
}

/** Config names, or the type numbered when repeated: `file`, `file-2`, … */
export function sinkNames(configs: readonly SinkConfig[]): string[] {
  const seen = new Map<string, number>();
  return configs.map((c) => {
    if (c.name !== undefined) return c.name;
    const n = (seen.get(c.type) ?? 0) + 1;
    seen.set(c.type, n);
    return n === 1 ? c.type : `${c.type}-${n}`;
  });
}

/** Secrets are resolved from `{ file }` before the config reaches here; anything else is a bug. */
function secretValue(value: Secret | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new Error('secret file reference was not resolved');
  return value;
}

type BatchConfig = NonNullable<Extract<SinkConfig, { type: 'http' }>['batch']>;

export function batchOptionsOf(batch: BatchConfig | undefined): Partial<BatchOptions> {
  if (batch === undefined) return {};
  const out: Partial<BatchOptions> = {};
  if (batch.maxBatchLines !== undefined) out.maxBatchLines = batch.maxBatchLines;
  if (batch.maxBatchBytes !== undefined) out.maxBatchBytes = parseSize(batch.maxBatchBytes);
  if (batch.flushInterval !== undefined) out.flushIntervalMs = parseDuration(batch.flushInterval);
  if (batch.maxQueueLines !== undefined) out.maxQueueLines = batch.maxQueueLines;
  if (batch.maxRetries !== undefined) out.maxRetries = batch.maxRetries;
  if (batch.timeout !== undefined) out.timeoutMs = parseDuration(batch.timeout);
  return out;
}

/** The file a file sink writes in this process: `<path>.w<N>` in cluster worker N, so processes never share a rotating file. */
export function filePathFor(path: string, env: SinkEnvironment): string {
  const full = resolve(env.cwd ?? process.cwd(), path);
  return env.workerId === undefined ? full : `${full}.w${env.workerId}`;
}

export interface AwsCredentialSources {
  accessKeyId?: Secret | undefined;
  secretAccessKey?: Secret | undefined;
  sessionToken?: Secret | undefined;
}

/** Credentials from the config, else AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN. */
export function awsCredentials(config: AwsCredentialSources, env: NodeJS.ProcessEnv = process.env) {
  const fromConfig = config.accessKeyId !== undefined || config.secretAccessKey !== undefined;
  const accessKeyId = fromConfig ? secretValue(config.accessKeyId) : env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = fromConfig ? secretValue(config.secretAccessKey) : env.AWS_SECRET_ACCESS_KEY;
  const sessionToken = fromConfig ? secretValue(config.sessionToken) : env.AWS_SESSION_TOKEN;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

/** CloudWatch keeps a message byte for byte: drop the trailing newline of each line. */
function withoutNewline(sink: LogSink): LogSink {
  return {
    write: (line) => sink.write(line.endsWith('\n') ? line.slice(0, -1) : line),
    flush: (deadlineMs) => sink.flush(deadlineMs),
    close: (deadlineMs) => sink.close(deadlineMs),
    stats: () => sink.stats(),
  };
}

const TIME_FIELD = /"time":"([^"]+)"/;

/** A line's own time for CloudWatch ordering: the `time` field of JSON lines, now for anything else. */
function lineTimestamp(line: string): number {
  const m = TIME_FIELD.exec(line);
  return m === null ? Date.now() : Date.parse(m[1]!);
}

/** Builds the sink for one config entry (never connects or throws on a down destination). */
export function createConfiguredSink(config: SinkConfig, name: string, env: SinkEnvironment = currentSinkEnvironment()): ConfiguredSink {
  const streams = new Set(config.streams ?? ['access', 'app']);
  const base = { name, type: config.type, access: streams.has('access'), app: streams.has('app') };
  switch (config.type) {
    case 'stdout':
      return { ...base, jsonOnly: false, sink: undefined };
    case 'file':
      return {
        ...base,
        jsonOnly: false,
        sink: new RotatingFileSink({
          path: filePathFor(config.path, env),
          maxSize: parseSize(config.maxSize ?? '100mb'),
          retention: config.keep ?? 7,
          gzip: config.compress ?? false,
          ...(config.interval === undefined ? {} : { interval: config.interval }),
        }),
      };
    case 'elasticsearch': {
      const apiKey = secretValue(config.apiKey);
      const password = secretValue(config.password);
      const auth = apiKey !== undefined ? { apiKey } : config.username !== undefined ? { username: config.username, password: password ?? '' } : undefined;
      return {
        ...base,
        jsonOnly: true,
        sink: createElasticsearchSink({
          ...batchOptionsOf(config.batch),
          name,
          url: config.url,
          index: config.index,
          gzip: config.gzip ?? false,
          ...(auth === undefined ? {} : { auth }),
        }),
      };
    }
    case 'splunk':
      return {
        ...base,
        jsonOnly: false, // HEC takes a non-JSON line as a string event
        sink: createSplunkHecSink({
          ...batchOptionsOf(config.batch),
          name,
          url: config.url,
          token: secretValue(config.token)!,
          gzip: config.gzip ?? false,
          ...(config.index === undefined ? {} : { index: config.index }),
          ...(config.source === undefined ? {} : { source: config.source }),
          ...(config.sourcetype === undefined ? {} : { sourcetype: config.sourcetype }),
        }),
      };
    case 'cloudwatch': {
      const credentials = awsCredentials(config, env.env);
      // Validation rejects a config without credentials; an environment that lost them since gets a sink that drops.
      const logStreamName = env.workerId === undefined ? config.logStream : `${config.logStream}-w${env.workerId}`;
      return {
        ...base,
        jsonOnly: false,
        sink: withoutNewline(new CloudWatchSink({
          region: config.region,
          logGroupName: config.logGroup,
          logStreamName,
          credentials: credentials ?? { accessKeyId: '', secretAccessKey: '' },
          batch: batchOptionsOf(config.batch),
          timestampOf: lineTimestamp,
          ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
        })),
      };
    }
    case 'http': {
      const headers = Object.fromEntries(Object.entries(config.headers ?? {}).map(([k, v]) => [k, secretValue(v)!]));
      return {
        ...base,
        jsonOnly: true,
        sink: createHttpNdjsonSink({ ...batchOptionsOf(config.batch), name, url: config.url, headers, gzip: config.gzip ?? false }),
      };
    }
  }
}

/** What decides whether sinks must be rebuilt: their config (secrets included, never printed) and the process's worker id. */
export function sinksKey(configs: readonly SinkConfig[] | undefined): string {
  return JSON.stringify(configs ?? null);
}
