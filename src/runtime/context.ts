import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayError } from '../errors/index.ts';
import type { HeaderList } from './headers.ts';

/** What the pipeline knows about the matched route; plugins read it, never change it. */
export interface RouteInfo {
  readonly name: string;
  readonly upstream: string | undefined;
}

/** What the pipeline knows about the chosen target, once one is picked. */
export interface TargetInfo {
  readonly upstream: string;
  readonly url: string;
}

/**
 * Per-request state, created once per request and passed to every plugin phase. Fields the
 * pipeline owns are readonly; `state` is the plugins' scratch space (namespace keys by plugin).
 */
export interface RequestContext {
  readonly id: string;
  /** Wall-clock start (ms since epoch) and monotonic start (performance.now()) */
  readonly startedAt: number;
  readonly startMono: number;
  readonly listener: string;
  readonly scheme: 'http' | 'https';
  readonly clientIp: string;
  readonly clientPort: number;
  readonly method: string;
  /** Host without port, lower-cased. */
  readonly host: string;
  /** Normalized path (no query). */
  readonly path: string;
  /** Raw query string without the leading '?', or ''. */
  readonly query: string;
  readonly headers: IncomingMessage['headers'];
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  route: RouteInfo | undefined;
  params: Record<string, string>;
  target: TargetInfo | undefined;
  /** Status sent to the client (set when the response head is written). */
  status: number;
  /** Bytes of response body sent to the client. */
  bytesSent: number;
  error: GatewayError | undefined;
  readonly state: Record<string, unknown>;
}

/** A response a plugin gives instead of forwarding (auth denial, preflight, cache hit, mock). */
export interface DirectResponse {
  status: number;
  headers?: Record<string, string | string[]>;
  /** A string or Buffer is sent as is; any other value is sent as JSON. */
  body?: unknown;
}

/** The request as it will be sent upstream; `onUpstreamRequest` plugins may change it. */
export interface UpstreamRequest {
  method: string;
  /** Origin-form request target: path plus '?query' when there is one. */
  path: string;
  headers: HeaderList;
}

/** The upstream response head before it is sent to the client; `onResponse` may change it. */
export interface UpstreamResponse {
  status: number;
  headers: HeaderList;
}
