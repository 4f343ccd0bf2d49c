import type { OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { GatewayError, toGatewayError } from '../errors/index.ts';
import { runOnResponse } from '../plugins/chain.ts';
import type { RequestContext, UpstreamRequest, UpstreamResponse } from '../runtime/context.ts';
import { HeaderList } from '../runtime/headers.ts';
import type { ListenerRuntime } from '../runtime/pipeline.ts';
import { cannotRespond, closeWhenDraining, sendProblem } from '../runtime/respond.ts';
import type { CompiledRoute, Snapshot } from '../runtime/snapshot.ts';
import { outcomeKind, type AttemptOutcome } from '../upstream/outcome.ts';
import type { Target, Upstream } from '../upstream/upstream.ts';
import type { CallHandle, FailureInfo, ResponseHandler } from './client/types.ts';
import type { ClientSpan, ServerSpan } from '../observability/tracing/index.ts';
import { limitBody } from './body-limit.ts';
import { codecFor, trailerObject, type ExchangeCodec } from './grpc-codec.ts';
import { GrpcStatus, grpcMessageOf, grpcStatusOf } from './grpc.ts';
import { forwardableResponseHeaders } from './headers.ts';
import { prepareUpstreamRequest, runUpstreamRequestPhase } from './prepare.ts';
import { addResponseVia } from './upstream-request.ts';

export interface ForwardInput {
  snapshot: Snapshot;
  listener: ListenerRuntime;
  ctx: RequestContext;
  route: CompiledRoute;
  authority: string;
  maxBody: number;
}

/**
 * Admission first (circuit breaker, concurrency limits, shedding: src/upstream/resilience, which
 * releases what it took on the response's 'close'), then pick a target, build the upstream
 * request, run onUpstreamRequest and start the exchange.
 */
export function forward(input: ForwardInput): void {
  const gate = input.route.admission;
  if (gate === undefined) return forwardAdmitted(input, undefined);
  gate.admit(input.ctx, input.route.pickUpstream, (upstream) => forwardAdmitted(input, upstream));
}

function forwardAdmitted(input: ForwardInput, chosen: Upstream | undefined): void {
  const prepared = prepareUpstreamRequest(input, chosen);
  if (prepared === undefined) return;
  const { ctx, route, snapshot } = input;
  const { upstream, target, request } = prepared;
  // gRPC / gRPC-Web: decided once here; undefined (plain HTTP) costs one check per chunk.
  const codec = codecFor(ctx, route.responseTimeoutMs ?? upstream.responseTimeoutMs);
  codec?.requestHeaders(request.headers, ctx);
  const exchange = new Exchange(ctx, route, snapshot, upstream, target, input.maxBody, codec);
  runUpstreamRequestPhase(input, request, (r) => exchange.start(r));
}

/** Start the attempt's client span and put its trace context in the upstream request headers. */
function startClientSpan(server: ServerSpan, request: UpstreamRequest, upstream: Upstream, target: Target): ClientSpan {
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

function hasBody(ctx: RequestContext): boolean {
  // HTTP/2 frames bodies itself: there is one unless the request HEADERS ended the stream.
  if (ctx.req.httpVersionMajor === 2) return (ctx.req as { stream?: { endAfterHeaders?: boolean } }).stream?.endAfterHeaders !== true;
  const h = ctx.req.headers;
  return h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0');
}

/** One client request ↔ one upstream call: streams both ways and maps failures to the client. */
class Exchange implements ResponseHandler {
  #handle: CallHandle | undefined;
  #done = false;
  /** Body chunks held back while an async onResponse plugin runs. */
  #held: Buffer[] | undefined;
  #heldEnd: string[] | undefined;
  /** performance.now() when the request went to the upstream client. */
  #sentAt = 0;
  /** The client span of this upstream attempt (tracing on). */
  #span: ClientSpan | undefined;

  constructor(
    private readonly ctx: RequestContext,
    private readonly route: CompiledRoute,
    private readonly snapshot: Snapshot,
    private readonly upstream: Upstream,
    private readonly target: Target,
    private readonly maxBody: number,
    private readonly codec: ExchangeCodec | undefined,
  ) {}

  /** Whole-call deadline (gRPC with grpc-timeout): streams included, unlike the per-phase timeouts. */
  #deadline: NodeJS.Timeout | undefined;

  private readonly onDeadline = (): void => {
    if (this.#done) return;
    this.#handle?.abort();
    const error = new GatewayError('SLUICE_ERR_UPSTREAM_TIMEOUT', { detail: 'grpc deadline exceeded', expose: true });
    this.ctx.error = error;
    this.settle();
    const res = this.ctx.res;
    if (!res.headersSent) return sendProblem(this.ctx, error);
    if (!res.destroyed && !res.writableEnded) this.ctx.bytesSent += this.codec!.fail(res, GrpcStatus.DEADLINE_EXCEEDED, 'deadline exceeded');
  };

  start(request: UpstreamRequest): void {
    const { ctx } = this;
    const res = ctx.res;
    if (res.destroyed) return;
    if (ctx.req.headers.expect?.toLowerCase() === '100-continue' && !res.headersSent) res.writeContinue();
    const withBody = hasBody(ctx);
    const declared = ctx.req.headers['content-length'];
    let body: Readable | null = !withBody ? null : declared === undefined ? limitBody(ctx.req, this.maxBody, this.onBodyTooLarge, ctx) : ctx.req;
    if (withBody && declared !== undefined) ctx.bytesReceived = Number(declared);
    let contentLength = withBody && declared !== undefined ? Number(declared) : null;
    const codec = this.codec;
    if (codec !== undefined) {
      ({ body, length: contentLength } = codec.requestBody(body, contentLength));
      if (codec.deadlineMs > 0) {
        const left = codec.deadlineMs - (performance.now() - ctx.startMono);
        this.#deadline = setTimeout(this.onDeadline, Math.max(0, left));
      }
    }
    if (ctx.span !== undefined) this.#span = startClientSpan(ctx.span, request, this.upstream, this.target);
    this.target.inflight++;
    this.#sentAt = performance.now();
    res.once('close', this.onClientClose);
    try {
      this.#handle = this.target.pool.request(
        {
          method: request.method,
          path: request.path,
          headers: request.headers.raw,
          body,
          contentLength,
          responseTimeoutMs: this.route.responseTimeoutMs ?? this.upstream.responseTimeoutMs,
          bodyIdleTimeoutMs: this.route.bodyIdleTimeoutMs ?? this.upstream.bodyIdleTimeoutMs,
        },
        this,
      );
    } catch (error) {
      this.settle();
      sendProblem(ctx, toGatewayError(error, 'SLUICE_ERR_BAD_REQUEST'));
    }
  }

  /** Chunked bodies have no declared length: count them as they stream and cut at the limit. */
  private readonly onBodyTooLarge = (): void => {
    this.#handle?.abort();
    this.settle();
    const error = new GatewayError('SLUICE_ERR_BODY_TOO_LARGE', { detail: `body exceeds ${this.maxBody} bytes` });
    const res = this.ctx.res;
    // A gRPC stream whose response already started ends with a status, not a cut connection.
    if (this.codec !== undefined && res.headersSent && !res.destroyed && !res.writableEnded) {
      this.ctx.error = error;
      this.ctx.bytesSent += this.codec.fail(res, grpcStatusOf(error), grpcMessageOf(error));
      return;
    }
    sendProblem(this.ctx, error);
  };

  private readonly onClientClose = (): void => {
    if (this.#done) return;
    // The client went away mid-exchange: stop the upstream work too.
    this.#handle?.abort();
    this.ctx.error ??= new GatewayError('SLUICE_ERR_CLIENT_ABORTED');
    this.settle();
  };

  private settle(): void {
    if (this.#done) return;
    this.#done = true;
    this.target.inflight--;
    if (this.#deadline !== undefined) clearTimeout(this.#deadline);
    const observers = this.target.observers;
    if (observers.length > 0) {
      const status = this.ctx.upstreamMs >= 0 ? this.#upstreamStatus : 0;
      const outcome: AttemptOutcome = { kind: outcomeKind(this.ctx.error?.code, status), status, durationMs: performance.now() - this.#sentAt };
      for (let i = 0; i < observers.length; i++) observers[i]!.onOutcome(outcome);
    }
    if (this.#span !== undefined) {
      const status = this.ctx.upstreamMs >= 0 ? this.#upstreamStatus : 0;
      this.#span.end({ status, errorCode: this.ctx.error?.code });
    }
  }

  #upstreamStatus = 0;

  onInformational(status: number, headers: string[]): void {
    if (status !== 103 || this.ctx.res.headersSent) return;
    const hints: Record<string, string | string[]> = {};
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!.toLowerCase();
      const prior = hints[name];
      hints[name] = prior === undefined ? headers[i + 1]! : ([] as string[]).concat(prior, headers[i + 1]!);
    }
    if (hints.link !== undefined) this.ctx.res.writeEarlyHints(hints as { link: string | string[] });
  }

  onHeaders(status: number, statusText: string, raw: string[]): void {
    if (this.#done) return;
    const upstreamMs = performance.now() - this.#sentAt;
    this.ctx.upstreamMs = upstreamMs;
    this.#upstreamStatus = status;
    this.upstream.series?.response(status, upstreamMs / 1000);
    const headers = new HeaderList(forwardableResponseHeaders(raw));
    this.codec?.responseHeaders(headers);
    addResponseVia(headers, this.snapshot.proxy);
    const response: UpstreamResponse = { status, headers };
    let pending: void | Promise<void>;
    try {
      pending = runOnResponse(this.route.chain, this.ctx, response);
    } catch (error) {
      return this.failBeforeHead(toGatewayError(error, 'SLUICE_ERR_PLUGIN_FAILED'));
    }
    if (pending instanceof Promise) {
      this.#held = [];
      pending.then(
        () => this.writeHead(response, statusText),
        (error: unknown) => this.failBeforeHead(toGatewayError(error, 'SLUICE_ERR_PLUGIN_FAILED')),
      );
    } else this.writeHead(response, statusText);
  }

  private failBeforeHead(error: GatewayError): void {
    this.#handle?.abort();
    this.settle();
    sendProblem(this.ctx, error);
  }

  private writeHead(response: UpstreamResponse, statusText: string): void {
    const { ctx } = this;
    const res = ctx.res;
    if (cannotRespond(res)) return;
    const raw = response.headers.raw;
    const extra = ctx.responseHeaders;
    for (let i = 0; i < extra.length; i++) raw.push(extra[i]!);
    // Keep the upstream's Date instead of adding a second one.
    if (response.headers.has('date')) res.sendDate = false;
    ctx.status = response.status;
    closeWhenDraining(res);
    res.writeHead(response.status, statusText, raw as unknown as OutgoingHttpHeaders);
    const held = this.#held;
    if (held !== undefined) {
      this.#held = undefined;
      for (const chunk of held) this.onData(chunk);
      if (this.#heldEnd !== undefined) this.onEnd(this.#heldEnd);
    }
  }

  onData(chunk: Buffer): boolean {
    if (this.#held !== undefined) {
      this.#held.push(chunk);
      return true;
    }
    const res = this.ctx.res;
    if (res.destroyed) return true;
    if (this.codec !== undefined) chunk = this.codec.data(chunk);
    this.ctx.bytesSent += chunk.length;
    if (res.write(chunk)) return true;
    res.once('drain', this.onDrain);
    return false;
  }

  private readonly onDrain = (): void => this.#handle?.resume();

  onEnd(trailers: string[]): void {
    if (this.#held !== undefined) {
      this.#heldEnd = trailers;
      return;
    }
    this.settle();
    const res = this.ctx.res;
    if (res.destroyed) return;
    if (this.codec !== undefined) {
      this.ctx.bytesSent += this.codec.end(res, trailers);
      return;
    }
    if (trailers.length > 0 && !res.hasHeader('content-length')) res.addTrailers(trailerObject(trailers));
    res.end();
  }

  onError(error: GatewayError, _info: FailureInfo): void {
    this.ctx.error = error;
    this.settle();
    this.upstream.series?.error(error);
    const res = this.ctx.res;
    // After the head went out a truncated body must never look complete: cut the connection.
    if (res.headersSent) {
      // gRPC has a way to say so: a status in the trailers, the stream itself ends cleanly.
      if (this.codec !== undefined && !res.destroyed && !res.writableEnded && this.#held === undefined) {
        this.ctx.bytesSent += this.codec.fail(res, grpcStatusOf(error), grpcMessageOf(error));
      } else res.destroy(error);
      return;
    }
    this.#held = undefined;
    sendProblem(this.ctx, error);
  }
}
