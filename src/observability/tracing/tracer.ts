import { SpanKind, SpanStatusCode, TraceFlags, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_CLIENT_PORT,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import type { Logger } from 'pino';
import {
  ATTR_HTTP_REQUEST_BODY_SIZE,
  ATTR_HTTP_RESPONSE_BODY_SIZE,
  ATTR_SLUICE_ERROR_CODE,
  ATTR_SLUICE_TARGET,
  ATTR_SLUICE_UPSTREAM,
  fullUrl,
  normalizeMethod,
  redactQuery,
  splitHost,
} from './attributes.ts';
import type { ResolvedTracingConfig } from './config.ts';
import { createExportPipeline, type Counters } from './export.ts';
import { createPropagation, type Propagation } from './propagation.ts';
import { buildResource, sluiceVersion } from './resource.ts';
import { createSampler } from './sampler.ts';
import type { ClientSpan, ClientSpanInput, RequestTracer, ServerSpan, ServerSpanInput, TracingStats } from './types.ts';

// The same clock as the pipeline's startTime; Date.now() would drift from it and skew durations.
const now = (): number => performance.timeOrigin + performance.now();

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

class ClientSpanImpl implements ClientSpan {
  #ended = false;
  constructor(
    private readonly span: Span,
    readonly headers: string[],
    private readonly recording: boolean,
    readonly headerNames: readonly string[],
  ) {}
  end(input: { status?: number; errorCode?: string }): void {
    if (this.#ended) return;
    this.#ended = true;
    if (!this.recording) return;
    const span = this.span;
    const status = input.status ?? 0;
    if (status > 0) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    if (input.errorCode !== undefined) span.setAttribute(ATTR_SLUICE_ERROR_CODE, input.errorCode);
    // Client side, semconv counts 4xx as errors too, and so is no response at all.
    if (status === 0 || status >= 400) {
      span.setAttribute(ATTR_ERROR_TYPE, input.errorCode ?? (status > 0 ? String(status) : '_OTHER'));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end(now());
  }
}

class ServerSpanImpl implements ServerSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
  #ended = false;
  constructor(
    private readonly span: Span,
    /** Extracted parent context plus this span: client spans and injection derive from it. */
    private readonly context: Context,
    private readonly spanName: string,
    private readonly owner: TracerImpl,
  ) {
    const sc = span.spanContext();
    this.traceId = sc.traceId;
    this.spanId = sc.spanId;
    this.sampled = (sc.traceFlags & TraceFlags.SAMPLED) !== 0;
  }

  setRoute(route: string): void {
    if (!this.sampled || this.#ended) return;
    this.span.setAttribute(ATTR_HTTP_ROUTE, route);
    this.span.updateName(`${this.spanName} ${route}`);
  }

  startClient(input: ClientSpanInput): ClientSpan {
    const m = normalizeMethod(input.method);
    // An unsampled parent yields a cheap non-recording span that still carries ids and flags 00.
    const span = this.owner.tracer.startSpan(m.spanName, { kind: SpanKind.CLIENT, startTime: now() }, this.context);
    const recording = span.isRecording();
    if (recording) {
      this.owner.counters.started++;
      span.setAttributes({
        [ATTR_HTTP_REQUEST_METHOD]: m.value,
        [ATTR_SERVER_ADDRESS]: input.serverAddress,
        [ATTR_SERVER_PORT]: input.serverPort,
        [ATTR_URL_FULL]: fullUrl(input.scheme, input.serverAddress, input.serverPort, input.path),
        [ATTR_SLUICE_UPSTREAM]: input.upstream,
        [ATTR_SLUICE_TARGET]: input.target,
      });
      if (m.original !== undefined) span.setAttribute(ATTR_HTTP_REQUEST_METHOD_ORIGINAL, m.original);
    }
    return new ClientSpanImpl(span, this.owner.propagation.inject(trace.setSpan(this.context, span)), recording, this.owner.headerNames);
  }

  end(input: { status: number; errorCode?: string; responseBytes: number; requestBytes: number }): void {
    if (this.#ended) return;
    this.#ended = true;
    if (!this.sampled) return;
    const span = this.span;
    const { status, errorCode } = input;
    if (status > 0) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    if (input.requestBytes > 0) span.setAttribute(ATTR_HTTP_REQUEST_BODY_SIZE, input.requestBytes);
    if (input.responseBytes > 0) span.setAttribute(ATTR_HTTP_RESPONSE_BODY_SIZE, input.responseBytes);
    if (errorCode !== undefined) span.setAttribute(ATTR_SLUICE_ERROR_CODE, errorCode);
    // Server side, 4xx is the client's fault: only 5xx (or no response at all) marks an error.
    if (status === 0 || status >= 500) {
      span.setAttribute(ATTR_ERROR_TYPE, errorCode ?? (status > 0 ? String(status) : '_OTHER'));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end(now());
  }
}

class TracerImpl implements RequestTracer {
  readonly counters: Counters = { started: 0, exported: 0, dropped: 0, failedExports: 0 };
  readonly tracer: Tracer;
  readonly propagation: Propagation;
  readonly headerNames: readonly string[];
  readonly #provider: BasicTracerProvider;
  readonly #closeExport: () => void;
  #shutdown: Promise<void> | undefined;

  constructor(config: ResolvedTracingConfig, logger: Logger) {
    const pipeline = createExportPipeline(config, logger, this.counters);
    this.#closeExport = pipeline.close;
    // Nothing global is registered: contexts are passed explicitly, so there is no
    // AsyncLocalStorage cost and several gateways can share a process.
    this.#provider = new BasicTracerProvider({
      resource: buildResource(config),
      sampler: createSampler(config.sampleRatio),
      spanProcessors: [pipeline.processor],
    });
    this.tracer = this.#provider.getTracer('sluice', sluiceVersion());
    this.propagation = createPropagation(config.propagators);
    this.headerNames = this.propagation.fields;
  }

  startServer(input: ServerSpanInput): ServerSpan {
    const parent = this.propagation.extract(input.headers);
    const m = normalizeMethod(input.method);
    const span = this.tracer.startSpan(m.spanName, { kind: SpanKind.SERVER, startTime: input.startTime }, parent);
    if (span.isRecording()) {
      this.counters.started++;
      const host = splitHost(input.host);
      span.setAttributes({
        [ATTR_HTTP_REQUEST_METHOD]: m.value,
        [ATTR_URL_PATH]: input.path,
        [ATTR_URL_SCHEME]: input.scheme,
        [ATTR_SERVER_PORT]: host.port ?? input.listenerPort,
        [ATTR_CLIENT_ADDRESS]: input.clientIp,
        [ATTR_CLIENT_PORT]: input.clientPort,
      });
      if (host.address !== '') span.setAttribute(ATTR_SERVER_ADDRESS, host.address);
      const query = input.query.startsWith('?') ? input.query.slice(1) : input.query;
      if (query !== '') span.setAttribute(ATTR_URL_QUERY, redactQuery(query));
      const ua = first(input.headers['user-agent']);
      if (ua !== undefined && ua !== '') span.setAttribute(ATTR_USER_AGENT_ORIGINAL, ua);
      if (m.original !== undefined) span.setAttribute(ATTR_HTTP_REQUEST_METHOD_ORIGINAL, m.original);
    }
    return new ServerSpanImpl(span, trace.setSpan(parent, span), m.spanName, this);
  }

  stats(): TracingStats {
    return { ...this.counters };
  }

  shutdown(deadlineMs: number): Promise<void> {
    this.#shutdown ??= this.#stop(deadlineMs);
    return this.#shutdown;
  }

  async #stop(deadlineMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    // Ref'd on purpose: an awaited shutdown keeps the process up until flushed or the deadline.
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadlineMs));
    });
    const flushed = this.#provider.shutdown().catch(() => {
      // export failures are already counted and logged by the pipeline
    });
    try {
      await Promise.race([flushed, deadline]);
    } finally {
      clearTimeout(timer);
      this.#closeExport();
    }
  }
}

/** Only called when tracing is enabled. */
export function createTracer(config: ResolvedTracingConfig, logger: Logger): RequestTracer {
  return new TracerImpl(config, logger);
}
