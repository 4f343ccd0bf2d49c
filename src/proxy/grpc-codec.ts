import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { RequestContext } from '../runtime/context.ts';
import type { HeaderList } from '../runtime/headers.ts';
import { encodeGrpcMessage, formatGrpcTimeout, grpcKind, parseGrpcTimeout, type GrpcKind } from './grpc.ts';
import { Base64Decoder, encodeChunk, trailerFrame } from './grpc-web.ts';

/**
 * What differs for gRPC and gRPC-Web exchanges, chosen ONCE per request (forward.ts) so the
 * plain HTTP path pays a single `codec === undefined` check.
 */
export interface ExchangeCodec {
  readonly kind: GrpcKind;
  /** Whole-call deadline in ms from the request start (0 = none): min(grpc-timeout, route timeout). */
  readonly deadlineMs: number;
  /** Upstream request headers: gRPC content-type, `te: trailers`, the remaining grpc-timeout. */
  requestHeaders(headers: HeaderList, ctx: RequestContext): void;
  /** The body sent upstream, and its length (null = unknown). */
  requestBody(body: Readable | null, length: number | null): { body: Readable | null; length: number | null };
  /** Upstream response headers before they go to the client. */
  responseHeaders(headers: HeaderList): void;
  /** A response body chunk as written to the client. */
  data(chunk: Buffer): Buffer;
  /** Finish a response whose head went out: trailers as HTTP trailers (gRPC) or a trailer frame (gRPC-Web). */
  end(res: ServerResponse, trailers: readonly string[]): number;
  /** Fail a response whose head went out with a status instead of cutting the connection. */
  fail(res: ServerResponse, status: number, message: string): number;
}

/**
 * Trailers as an object: the HTTP/2 compat response's addTrailers takes only that form (pairs
 * would become headers named "0", "1" …); node:http accepts it too.
 */
export function trailerObject(flat: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!.toLowerCase();
    const prior = out[name];
    out[name] = prior === undefined ? flat[i + 1]! : ([] as string[]).concat(prior, flat[i + 1]!);
  }
  return out;
}

function setTimeoutHeader(headers: HeaderList, ctx: RequestContext, deadlineMs: number): void {
  if (deadlineMs <= 0) return;
  // Propagate the budget left, not the one received: time already spent here is gone.
  headers.set('grpc-timeout', formatGrpcTimeout(deadlineMs - (performance.now() - ctx.startMono)));
}

const STATUS_HEADERS = ['grpc-status', 'grpc-message', 'grpc-status-details-bin'];

class NativeCodec implements ExchangeCodec {
  readonly kind = 'grpc' as const;
  constructor(readonly deadlineMs: number) {}

  requestHeaders(headers: HeaderList, ctx: RequestContext): void {
    headers.set('te', 'trailers');
    setTimeoutHeader(headers, ctx, this.deadlineMs);
  }

  requestBody(body: Readable | null, length: number | null): { body: Readable | null; length: number | null } {
    return { body, length };
  }

  /** The status of an upstream trailers-only answer, moved from the head to the trailers. */
  #headStatus: string[] | undefined;

  responseHeaders(headers: HeaderList): void {
    if (!headers.has('grpc-status')) return;
    // Once the head is written (writeHead) it cannot carry END_STREAM any more, so a
    // trailers-only answer is re-sent as an empty body + trailers: equivalent for gRPC clients.
    const status: string[] = [];
    for (const name of STATUS_HEADERS) {
      const value = headers.get(name);
      if (value === undefined) continue;
      status.push(name, value);
      headers.delete(name);
    }
    this.#headStatus = status;
  }

  data(chunk: Buffer): Buffer {
    return chunk;
  }

  end(res: ServerResponse, trailers: readonly string[]): number {
    if (trailers.length === 0 && this.#headStatus !== undefined) trailers = this.#headStatus;
    if (trailers.length > 0) res.addTrailers(trailerObject(trailers));
    res.end();
    return 0;
  }

  fail(res: ServerResponse, status: number, message: string): number {
    res.addTrailers({ 'grpc-status': String(status), 'grpc-message': encodeGrpcMessage(message) });
    res.end();
    return 0;
  }
}

/** gRPC-Web (binary or text) from a browser ↔ native gRPC upstream. */
class WebCodec implements ExchangeCodec {
  constructor(
    readonly kind: 'grpc-web' | 'grpc-web-text',
    readonly deadlineMs: number,
    /** The client's content-type (`+proto` added when absent), echoed on the response. */
    private readonly clientType: string,
    /** application/grpc with the client's `+format` suffix, if it gave one. */
    private readonly upstreamType: string,
  ) {}

  requestHeaders(headers: HeaderList, ctx: RequestContext): void {
    headers.set('content-type', this.upstreamType);
    headers.set('te', 'trailers');
    // Browser-only markers; the upstream speaks plain gRPC.
    headers.delete('x-grpc-web');
    setTimeoutHeader(headers, ctx, this.deadlineMs);
  }

  requestBody(body: Readable | null, length: number | null): { body: Readable | null; length: number | null } {
    if (body === null || this.kind === 'grpc-web') return { body, length };
    const decoder = new Base64Decoder();
    body.on('error', (error) => decoder.destroy(error));
    return { body: body.pipe(decoder), length: null };
  }

  responseHeaders(headers: HeaderList): void {
    headers.set('content-type', this.clientType);
    // The trailer frame is appended to the body: the upstream's length (if any) no longer holds.
    headers.delete('content-length');
  }

  data(chunk: Buffer): Buffer {
    return this.kind === 'grpc-web' ? chunk : encodeChunk(chunk);
  }

  end(res: ServerResponse, trailers: readonly string[]): number {
    // A trailers-only upstream answer already carried the status in the head.
    if (trailers.length === 0) {
      res.end();
      return 0;
    }
    const frame = this.data(trailerFrame(trailers));
    res.end(frame);
    return frame.length;
  }

  fail(res: ServerResponse, status: number, message: string): number {
    return this.end(res, ['grpc-status', String(status), 'grpc-message', encodeGrpcMessage(message)]);
  }
}

/**
 * The codec for this request, or undefined for plain HTTP. `timeoutMs` is the route/upstream
 * response timeout; `requestDeadlineMs` the route deadline / X-Request-Timeout already in force
 * (0: none): the call deadline is the smallest of them and is propagated as grpc-timeout.
 */
export function codecFor(ctx: RequestContext, timeoutMs: number, requestDeadlineMs = 0): ExchangeCodec | undefined {
  const contentType = ctx.headers['content-type'];
  const kind = grpcKind(contentType);
  if (kind === undefined) return undefined;
  const budget = parseGrpcTimeout(ctx.headers['grpc-timeout']);
  const grpcMs = budget === undefined ? 0 : timeoutMs > 0 ? Math.min(budget, timeoutMs) : budget;
  const deadlineMs = grpcMs === 0 ? requestDeadlineMs : requestDeadlineMs === 0 ? grpcMs : Math.min(grpcMs, requestDeadlineMs);
  if (kind === 'grpc') return new NativeCodec(deadlineMs);
  const base = contentType!.split(';')[0]!.trim().toLowerCase();
  const plus = base.indexOf('+');
  const clientType = plus < 0 ? `${base}+proto` : base;
  return new WebCodec(kind, deadlineMs, clientType, plus < 0 ? 'application/grpc' : `application/grpc${base.slice(plus)}`);
}
