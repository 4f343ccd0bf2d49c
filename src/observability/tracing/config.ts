import { Value } from '@sinclair/typebox/value';
import { TracingSchema, type TracingConfig } from '../../config/schema/observability.ts';
import { parseDuration } from '../../config/units.ts';
import type { PropagatorName } from './propagation.ts';

export interface ResolvedTracingConfig {
  enabled: boolean;
  /** OTLP/HTTP traces URL. */
  endpoint: string;
  protocol: 'http/protobuf' | 'http/json';
  /** Extra export request headers, secrets already resolved. */
  headers: Record<string, string>;
  serviceName: string;
  resourceAttributes: Record<string, string>;
  sampleRatio: number;
  /** Deduplicated, in configured order (the first one that finds a parent wins). */
  propagators: readonly PropagatorName[];
  exportTimeoutMs: number;
  maxQueueSize: number;
  /** Never above maxQueueSize. */
  maxExportBatchSize: number;
  scheduledDelayMs: number;
}

/**
 * Defaults come from the schema itself (one source of truth); `headers` replaces the config's,
 * whose values may be `{ file }` secrets the caller has already read.
 */
export function resolveTracingConfig(config: TracingConfig, headers: Record<string, string>): ResolvedTracingConfig {
  const d = Value.Default(TracingSchema, structuredClone(config)) as Required<TracingConfig>;
  const resourceAttributes = { ...(config.resourceAttributes ?? {}) };
  const maxQueueSize = d.maxQueueSize;
  return {
    enabled: d.enabled,
    endpoint: d.endpoint,
    protocol: d.protocol,
    headers: { ...headers },
    // An explicit service.name resource attribute beats the schema default, not an explicit serviceName.
    serviceName: config.serviceName ?? resourceAttributes['service.name'] ?? d.serviceName,
    resourceAttributes,
    sampleRatio: d.sampleRatio,
    propagators: [...new Set<PropagatorName>(config.propagators ?? ['tracecontext'])],
    exportTimeoutMs: parseDuration(d.exportTimeout),
    maxQueueSize,
    maxExportBatchSize: Math.min(d.maxExportBatchSize, maxQueueSize),
    scheduledDelayMs: parseDuration(d.scheduledDelay),
  };
}
