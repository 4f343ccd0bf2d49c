import http from 'node:http';
import https from 'node:https';
import type { Context } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BatchSpanProcessor, type ReadableSpan, type Span, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import type { ResolvedTracingConfig } from './config.ts';

/** Mutable counters shared by the export pipeline and the tracer. */
export interface Counters {
  started: number;
  exported: number;
  dropped: number;
  failedExports: number;
}

const WARN_INTERVAL_MS = 30_000;

/** At most one warn per interval; what happened in between is summed into the next one. */
export class RateLimitedWarn {
  #last = -Infinity;
  #suppressed = 0;
  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = WARN_INTERVAL_MS,
  ) {}
  warn(fields: Record<string, unknown>, msg: string): void {
    const now = performance.now();
    if (now - this.#last < this.intervalMs) {
      this.#suppressed++;
      return;
    }
    this.#last = now;
    this.logger.warn({ ...fields, suppressed: this.#suppressed }, msg);
    this.#suppressed = 0;
  }
}

/** The endpoint without userinfo or query, safe for logs. */
function endpointForLogs(endpoint: string): string {
  try {
    const u = new URL(endpoint);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

/**
 * Counts outcomes and logs failures (rate-limited); never throws into the batch processor.
 * `onHandOff` runs synchronously when spans leave the processor's queue.
 */
class CountingExporter implements SpanExporter {
  readonly #warn: RateLimitedWarn;
  constructor(
    private readonly inner: SpanExporter,
    private readonly counters: Counters,
    private readonly onHandOff: (n: number) => void,
    logger: Logger,
    private readonly endpoint: string,
  ) {
    this.#warn = new RateLimitedWarn(logger);
  }
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const n = spans.length;
    this.onHandOff(n);
    const finish = (result: ExportResult): void => {
      if (result.code === ExportResultCode.SUCCESS) this.counters.exported += n;
      else {
        this.counters.failedExports++;
        this.#warn.warn(
          { endpoint: this.endpoint, spans: n, err: result.error?.message ?? 'unknown', failedExports: this.counters.failedExports },
          'trace export failed; spans lost',
        );
      }
      // Failures end here, counted and logged: the batch processor would only reject its flush
      // with them, and on shutdown one failed batch would cut the flush of the others short.
      done({ code: ExportResultCode.SUCCESS });
    };
    try {
      this.inner.export(spans, finish);
    } catch (err) {
      finish({ code: ExportResultCode.FAILED, error: err as Error });
    }
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/**
 * Bounds the batch processor's queue itself so drops are counted exactly: the processor's queue
 * holds what it was given minus what it handed to the exporter (it splices a batch and exports it
 * in the same tick), so `pending` mirrors it. Spans ending after shutdown count as dropped too.
 */
class BoundedProcessor implements SpanProcessor {
  #pending = 0;
  #closed = false;
  readonly #warn: RateLimitedWarn;
  constructor(
    private readonly inner: SpanProcessor,
    private readonly maxQueueSize: number,
    private readonly counters: Counters,
    logger: Logger,
  ) {
    this.#warn = new RateLimitedWarn(logger);
  }
  handedOff(n: number): void {
    this.#pending = Math.max(0, this.#pending - n);
  }
  onStart(_span: Span, _parent: Context): void {}
  onEnd(span: ReadableSpan): void {
    if (this.#closed || this.#pending >= this.maxQueueSize) {
      this.counters.dropped++;
      if (!this.#closed) this.#warn.warn({ maxQueueSize: this.maxQueueSize, dropped: this.counters.dropped }, 'trace export queue full; dropping spans');
      return;
    }
    this.#pending++;
    this.inner.onEnd(span);
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }
  shutdown(): Promise<void> {
    this.#closed = true;
    return this.inner.shutdown();
  }
}

export interface ExportPipeline {
  processor: SpanProcessor;
  /** Cuts exports still in flight and refuses new connections (no retry lingers after shutdown). */
  close(): void;
}

const CLOSED = 'ERR_TRACER_SHUT_DOWN'; // not among the exporter's retryable codes

/**
 * Our own keep-alive agent, so shutdown can end its sockets: several tracers may come and go in
 * one process across reloads. Once closed, in-flight requests fail with a code the exporter
 * does not retry, and any retry already scheduled fails at once instead of connecting.
 */
function closableAgent(endpoint: string): { agent: http.Agent; close(): void } {
  const agent = new URL(endpoint).protocol === 'https:' ? new https.Agent({ keepAlive: true, maxSockets: 4 }) : new http.Agent({ keepAlive: true, maxSockets: 4 });
  let closed = false;
  const closedError = (): Error => Object.assign(new Error('tracer shut down'), { code: CLOSED });
  const create = agent.createConnection.bind(agent);
  agent.createConnection = (options, callback) => {
    if (!closed) return create(options, callback);
    process.nextTick(() => callback?.(closedError(), undefined as never));
    return undefined;
  };
  return {
    agent,
    close() {
      closed = true;
      for (const sockets of Object.values(agent.sockets)) for (const socket of sockets ?? []) socket.destroy(closedError());
      agent.destroy();
    },
  };
}

export function createExportPipeline(config: ResolvedTracingConfig, logger: Logger, counters: Counters): ExportPipeline {
  const { agent, close } = closableAgent(config.endpoint);
  const timeoutMillis = Math.max(1, config.exportTimeoutMs);
  const options = { url: config.endpoint, headers: config.headers, timeoutMillis, httpAgentOptions: () => agent };
  const otlp = config.protocol === 'http/json' ? new OtlpJsonExporter(options) : new OtlpProtoExporter(options);

  let bounded: BoundedProcessor | undefined;
  const exporter = new CountingExporter(otlp, counters, (n) => bounded?.handedOff(n), logger, endpointForLogs(config.endpoint));
  const batch = new BatchSpanProcessor(exporter, {
    maxQueueSize: config.maxQueueSize,
    maxExportBatchSize: config.maxExportBatchSize,
    scheduledDelayMillis: config.scheduledDelayMs,
    // The exporter's own timeout (retries included) fires first, so its failure is the one counted.
    exportTimeoutMillis: timeoutMillis + 1000,
  });
  bounded = new BoundedProcessor(batch, config.maxQueueSize, counters, logger);
  return { processor: bounded, close };
}
