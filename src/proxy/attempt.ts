import { GatewayError } from '../errors/index.ts';
import type { ClientSpan, ServerSpan } from '../observability/tracing/index.ts';
import type { RequestContext, UpstreamRequest } from '../runtime/context.ts';
import type { Target, Upstream } from '../upstream/upstream.ts';
import type { CallHandle, FailureInfo, ResponseHandler } from './client/types.ts';

/**
 * Helpers of one upstream attempt: its client span, its target on a retry, and the Attempt
 * handler that relays a live call's callbacks to the exchange (forward.ts).
 */

/** What an Attempt reports to (the exchange); only while the attempt is the live one. */
export interface AttemptListener {
  onInformational(status: number, headers: string[]): void;
  onHeaders(attempt: Attempt, status: number, statusText: string, headers: string[]): void;
  onData(chunk: Buffer): boolean;
  onEnd(attempt: Attempt, trailers: string[]): void;
  onError(attempt: Attempt, error: GatewayError, info: FailureInfo): void;
}

/** Start the attempt's client span and put its trace context in the upstream request headers. */
export function startClientSpan(server: ServerSpan, request: UpstreamRequest, upstream: Upstream, target: Target): ClientSpan {
  const url = target.url;
  const https = url.protocol === 'https:';
  const span = server.startClient({
    method: request.method,
    scheme: https ? 'https' : 'http',
    serverAddress: url.hostname,
    serverPort: url.port === '' ? (https ? 443 : 80) : Number(url.port),
    path: request.path,
    upstream: upstream.name,
    target: target.id,
  });
  const headers = request.headers;
  // The client's own trace headers would contradict ours (and a stale parent id would mislink).
  for (const name of span.headerNames) headers.delete(name);
  const inject = span.headers;
  for (let i = 0; i < inject.length; i += 2) headers.add(inject[i]!, inject[i + 1]!);
  return span;
}

/** Whether the client request has a body to forward. */
export function hasBody(ctx: RequestContext): boolean {
  // HTTP/2 frames bodies itself: there is one unless the request HEADERS ended the stream.
  if (ctx.req.httpVersionMajor === 2) return (ctx.req as { stream?: { endAfterHeaders?: boolean } }).stream?.endAfterHeaders !== true;
  const h = ctx.req.headers;
  return h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0');
}

/**
 * The target for a retry: one not tried yet when the balancer has it, else any but the last one,
 * else (unless `otherOnly`) the last one again. The balancer excludes one target per pick, so a
 * few picks find an untried one among several failed.
 */
export function retryTarget(upstream: Upstream, ctx: RequestContext, tried: readonly Target[], otherOnly: boolean): Target | undefined {
  const last = tried[tried.length - 1]!;
  for (let i = 0; i < upstream.targets.length; i++) {
    const t = upstream.pick(ctx, last);
    if (t === undefined) break;
    if (!tried.includes(t)) return t;
  }
  return upstream.pick(ctx, last) ?? (last.available && !otherOnly ? last : undefined);
}

export const DEADLINE = (): GatewayError => new GatewayError('SLUICE_ERR_DEADLINE_EXCEEDED', { detail: 'request deadline exceeded', expose: true });

/** One upstream call of an exchange. Callbacks of an attempt that was abandoned (retried, cancelled) are ignored. */
export class Attempt implements ResponseHandler {
  handle: CallHandle | undefined;
  /** performance.now() when the request went to the upstream client. */
  readonly sentAt = performance.now();
  span: ClientSpan | undefined;
  status = 0;
  settled = false;

  constructor(
    private readonly exchange: AttemptListener,
    readonly target: Target,
    /** Holds a slot of the retry budget until it settles. */
    public retry: boolean,
  ) {}

  onInformational(status: number, headers: string[]): void {
    if (!this.settled) this.exchange.onInformational(status, headers);
  }
  onHeaders(status: number, statusText: string, headers: string[]): void {
    if (!this.settled) this.exchange.onHeaders(this, status, statusText, headers);
  }
  onData(chunk: Buffer): boolean {
    return this.settled ? true : this.exchange.onData(chunk);
  }
  onEnd(trailers: string[]): void {
    if (!this.settled) this.exchange.onEnd(this, trailers);
  }
  onError(error: GatewayError, info: FailureInfo): void {
    if (!this.settled) this.exchange.onError(this, error, info);
  }
}

/** grpc-status of a trailers-only answer (in the response head), if any. */
export function grpcStatusIn(raw: readonly string[]): number | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 11 && raw[i]!.toLowerCase() === 'grpc-status') return Number(raw[i + 1]);
  }
  return undefined;
}
