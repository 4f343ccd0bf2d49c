import type { Logger } from 'pino';
import type { TracingConfig } from '../config/schema/observability.ts';
import { CounterFamily } from './prom/families.ts';
import { createTracer, resolveTracingConfig, type RequestTracer, type TracingStats } from './tracing/index.ts';

const SHUTDOWN_MS = 5_000;

/**
 * Owns the tracer of the config in force. A config change to the tracing section replaces the
 * tracer; the old one flushes once the requests that hold its spans are done (`retireAfter`).
 * With tracing off there is no tracer at all: the pipeline checks one field and does nothing else.
 */
export class TracingManager {
  #tracer: RequestTracer | undefined;
  #key = '';
  /** Totals of tracers already replaced, so the exported counters never go down. */
  readonly #retired: TracingStats = { started: 0, exported: 0, dropped: 0, failedExports: 0 };

  constructor(private readonly logger: Logger) {}

  get current(): RequestTracer | undefined {
    return this.#tracer;
  }

  /** Put `config` in force; `retireAfter` resolves when requests that may hold the old tracer's spans are done. */
  apply(config: TracingConfig | undefined, retireAfter: Promise<unknown>): void {
    const enabled = config?.enabled === true;
    const key = enabled ? JSON.stringify(config) : '';
    if (key === this.#key) return;
    this.#key = key;
    const previous = this.#tracer;
    this.#tracer = enabled ? createTracer(resolveTracingConfig(config!, (config!.headers ?? {}) as Record<string, string>), this.logger) : undefined;
    if (enabled) this.logger.info({ endpoint: config!.endpoint, sampleRatio: config!.sampleRatio ?? 1 }, 'tracing on');
    else if (previous !== undefined) this.logger.info('tracing off');
    if (previous !== undefined) void retireAfter.then(() => this.#retire(previous));
  }

  async #retire(tracer: RequestTracer, deadlineMs = SHUTDOWN_MS): Promise<void> {
    await tracer.shutdown(deadlineMs).catch(() => undefined);
    const s = tracer.stats();
    this.#retired.started += s.started;
    this.#retired.exported += s.exported;
    this.#retired.dropped += s.dropped;
    this.#retired.failedExports += s.failedExports;
  }

  stats(): TracingStats {
    const s = this.#tracer?.stats();
    const r = this.#retired;
    return s === undefined
      ? { ...r }
      : { started: r.started + s.started, exported: r.exported + s.exported, dropped: r.dropped + s.dropped, failedExports: r.failedExports + s.failedExports };
  }

  /** Flush what is pending (gateway stop). */
  async shutdown(deadlineMs: number): Promise<void> {
    const tracer = this.#tracer;
    this.#tracer = undefined;
    this.#key = '';
    if (tracer !== undefined) await this.#retire(tracer, deadlineMs);
  }

  /** Counters for /metrics. */
  families(): CounterFamily[] {
    const counter = (name: string, help: string, read: (s: TracingStats) => number) =>
      new CounterFamily({ name, help, collect: (f) => (f.child().value = read(this.stats())) });
    return [
      counter('sluice_tracing_spans_started_total', 'Sampled (recorded) spans started, server and client', (s) => s.started),
      counter('sluice_tracing_spans_exported_total', 'Spans accepted by the OTLP endpoint', (s) => s.exported),
      counter('sluice_tracing_spans_dropped_total', 'Finished spans dropped because the export queue was full', (s) => s.dropped),
      counter('sluice_tracing_export_failures_total', 'OTLP export requests that failed after retries (their spans are lost)', (s) => s.failedExports),
    ];
  }
}
