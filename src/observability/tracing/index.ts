// OpenTelemetry tracing for the request pipeline: one server span per request, one client span
// per upstream attempt, W3C/B3 propagation, OTLP/HTTP export in batches.
export { resolveTracingConfig, type ResolvedTracingConfig } from './config.ts';
export { createTracer } from './tracer.ts';
export { PROPAGATION_HEADERS, type PropagatorName } from './propagation.ts';
export type { ClientSpan, ClientSpanInput, RequestTracer, ServerSpan, ServerSpanInput, TracingStats } from './types.ts';
