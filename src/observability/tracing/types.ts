import type { IncomingHttpHeaders } from 'node:http';

/** What the pipeline knows about an incoming request when it starts the server span. */
export interface ServerSpanInput {
  method: string;
  scheme: 'http' | 'https';
  /** Host header value (may carry a port, `[v6]:port` included). */
  host: string;
  path: string;
  /** Without the leading `?`; '' when none. */
  query: string;
  headers: IncomingHttpHeaders;
  clientIp: string;
  clientPort: number;
  listenerPort: number;
  /** Epoch ms (performance.timeOrigin + performance.now() precision is fine). */
  startTime: number;
}

export interface ClientSpanInput {
  method: string;
  scheme: 'http' | 'https';
  serverAddress: string;
  serverPort: number;
  /** Path sent upstream, query included. */
  path: string;
  upstream: string;
  target: string;
}

export interface TracingStats {
  /** Recording (sampled) spans started, server and client. */
  started: number;
  /** Spans the collector accepted. */
  exported: number;
  /** Finished spans discarded because the export queue was full (or the tracer was shut down). */
  dropped: number;
  /** Export requests that failed after the exporter's own retries; their spans are lost. */
  failedExports: number;
}

export interface RequestTracer {
  /** Server span for one incoming request; the parent is extracted from the headers per the configured propagators. */
  startServer(input: ServerSpanInput): ServerSpan;
  stats(): TracingStats;
  /** Lower-case names of the headers the configured propagators write upstream. */
  readonly headerNames: readonly string[];
  /** Flush finished spans and stop; resolves by the deadline at the latest. */
  shutdown(deadlineMs: number): Promise<void>;
}

export interface ServerSpan {
  /** 32 lower-case hex. */
  readonly traceId: string;
  /** 16 lower-case hex. */
  readonly spanId: string;
  readonly sampled: boolean;
  /** Once the route is known: sets http.route and renames the span to `${method} ${route}`. */
  setRoute(route: string): void;
  /**
   * A client span (child of this server span) for one upstream attempt. Its `headers` are the
   * propagation headers to send upstream, flat [name, value, ...] with lower-case names.
   */
  startClient(input: ClientSpanInput): ClientSpan;
  /** status 0 = no response sent; errorCode = the gateway's stable error code, if any. */
  end(input: { status: number; errorCode?: string; responseBytes: number; requestBytes: number }): void;
}

export interface ClientSpan {
  readonly headers: string[];
  /** Every header the configured propagators own: remove the client's before adding `headers`. */
  readonly headerNames: readonly string[];
  /** status absent or 0 = no response received. */
  end(input: { status?: number; errorCode?: string }): void;
}
