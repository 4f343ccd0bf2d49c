import type { Readable } from 'node:stream';
import type { GatewayError } from '../../errors/index.ts';

/**
 * The upstream client interface: one pool per target. The proxy, balancers and plugins only see
 * this, so the implementation (raw-socket client, undici) can be swapped without touching them.
 */
export interface PoolOptions {
  /** Target origin: protocol http: or https:, hostname, port. */
  origin: URL;
  /** Most open connections; requests beyond wait in a FIFO queue. */
  connections: number;
  /** Idle upstream connections are closed after this many ms. */
  keepAliveMs: number;
  connectTimeoutMs: number;
  /** HTTP/2 only: PING each session this often; a PING still unanswered at the next tick closes it. 0/absent = off. */
  pingIntervalMs?: number;
  tls?: UpstreamTlsOptions;
}

/** TLS settings for https targets (PEM text already resolved from secrets). */
export interface UpstreamTlsOptions {
  rejectUnauthorized?: boolean;
  /** SNI and the name the target certificate is checked against. */
  servername?: string;
  /** Trusted CAs: replaces the system roots when set (node semantics). */
  ca?: string;
  /** Client certificate and key for targets that require one. */
  cert?: string;
  key?: string;
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
}

export interface UpstreamCall {
  method: string;
  /** Origin-form request target (path and query), already rewritten. */
  path: string;
  /**
   * Flat [name, value, …] request headers to send as they are: hop-by-hop headers already removed,
   * Host included. The client adds the framing (Content-Length or Transfer-Encoding: chunked) itself
   * and must reject (throw) names/values containing CR, LF or NUL.
   */
  headers: string[];
  /** Request body stream, or null when the request has no body. */
  body: Readable | null;
  /** Body length when known (sent as Content-Length); null with a body means chunked. */
  contentLength: number | null;
  /** Time from the request being written to the response head arriving. 0 = none. */
  responseTimeoutMs: number;
  /** Longest pause between response body chunks. 0 = none. */
  bodyIdleTimeoutMs: number;
}

export interface FailureInfo {
  /** Whether any request byte reached the upstream socket (false → safe to retry anywhere). */
  requestSent: boolean;
  /** Whether onHeaders was already called (true → the client response has started). */
  responseStarted: boolean;
}

export interface ResponseHandler {
  /** 1xx interim responses other than 101 (100 Continue, 102, 103 Early Hints). */
  onInformational?(status: number, headers: string[]): void;
  /** Final response head; headers flat and raw (hop-by-hop not removed: the caller filters). */
  onHeaders(status: number, statusText: string, headers: string[]): void;
  /** A body chunk; return false to pause reading until `CallHandle.resume()`. */
  onData(chunk: Buffer): boolean;
  /** Body complete; trailers flat (empty when none). */
  onEnd(trailers: string[]): void;
  /** Called at most once, instead of onEnd, also after onHeaders (a truncated body). */
  onError(error: GatewayError, info: FailureInfo): void;
}

export interface CallHandle {
  /** Abandon the call (client went away): the connection is destroyed, never reused. */
  abort(reason?: Error): void;
  /** Resume reading after onData returned false. */
  resume(): void;
}

export interface PoolStats {
  open: number;
  idle: number;
  inflight: number;
  queued: number;
  /** Connections opened since the pool was created. */
  connectsTotal: number;
  /** Requests sent again on a new connection because a reused keep-alive connection was found closed before any response byte. */
  retriesTotal: number;
}

export interface TargetPool {
  request(call: UpstreamCall, handler: ResponseHandler): CallHandle;
  stats(): PoolStats;
  /** Stop taking requests, let in-flight ones finish, close idle connections. */
  close(): Promise<void>;
  /** Close everything now. */
  destroy(): void;
}

export type PoolFactory = (options: PoolOptions) => TargetPool;
