import type { OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { GatewayError, toGatewayError, type ErrorCode } from '../errors/index.ts';
import { runOnResponse } from '../plugins/chain.ts';
import type { RequestContext, UpstreamRequest, UpstreamResponse } from '../runtime/context.ts';
import { HeaderList } from '../runtime/headers.ts';
import type { ListenerRuntime } from '../runtime/pipeline.ts';
import { cannotRespond, closeWhenDraining, sendProblem } from '../runtime/respond.ts';
import type { CompiledRoute, Snapshot } from '../runtime/snapshot.ts';
import { outcomeKind, type AttemptOutcome } from '../upstream/outcome.ts';
import {
  backoffMs,
  methodRetryable,
  parseRequestTimeout,
  retryBudgetFor,
  retryReasonForError,
  retryReasonForStatus,
  type RetryBudget,
  type RetryPolicy,
  type RetryReason,
} from '../upstream/retry.ts';
import type { Target, Upstream } from '../upstream/upstream.ts';
import type { FailureInfo } from './client/types.ts';
import { limitBody } from './body-limit.ts';
import { codecFor, trailerObject, type ExchangeCodec } from './grpc-codec.ts';
import { GrpcStatus, grpcMessageOf, grpcStatusOf } from './grpc.ts';
import { forwardableResponseHeaders } from './headers.ts';
import { prepareUpstreamRequest, runUpstreamRequestPhase } from './prepare.ts';
import { ReplayBody } from './replay-body.ts';
import { Attempt, DEADLINE, grpcStatusIn, hasBody, retryTarget, startClientSpan, type AttemptListener } from './attempt.ts';
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
  const deadlineMs = requestDeadline(ctx, route.deadlineMs);
  // gRPC / gRPC-Web: decided once here; undefined (plain HTTP) costs one check per chunk.
  const codec = codecFor(ctx, route.responseTimeoutMs ?? upstream.responseTimeoutMs, deadlineMs);
  // Before onUpstreamRequest so plugins see (and may change) what the upstream gets; refreshed per attempt.
  codec?.requestHeaders(request.headers, ctx);
  const exchange = new Exchange(ctx, route, snapshot, upstream, target, input.maxBody, codec, codec?.deadlineMs ?? deadlineMs);
  runUpstreamRequestPhase(input, request, (r) => exchange.start(r));
}

/** The request deadline in ms from its start (0: none): the route's, or the client's X-Request-Timeout when smaller. */
function requestDeadline(ctx: RequestContext, routeMs: number): number {
  const asked = parseRequestTimeout(ctx.headers['x-request-timeout']);
  if (asked === undefined) return routeMs;
  return routeMs === 0 ? asked : Math.min(asked, routeMs);
}

/**
 * One client request ↔ one or more upstream attempts (retries), streaming both ways. Retries
 * happen only before anything of the response went to the client; the request body is replayed
 * from a bounded copy (ReplayBody) or, when it has none, the request is not resent.
 */
class Exchange implements AttemptListener {
  #done = false;
  #attempt: Attempt | undefined;
  readonly #tried: Target[] = [];
  #retries = 0;
  #request!: UpstreamRequest;
  /** Body chunks held back while an async onResponse plugin runs. */
  #held: Buffer[] | undefined;
  #heldEnd: string[] | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #backoff: NodeJS.Timeout | undefined;
  /** The retry waiting in #backoff holds a budget slot. */
  #backoffSlot = false;
  #withBody = false;
  #body: Readable | null = null;
  #contentLength: number | null = null;
  #replay: ReplayBody | undefined;
  #budget: RetryBudget | undefined;
  readonly #policy: RetryPolicy;

  constructor(
    private readonly ctx: RequestContext,
    private readonly route: CompiledRoute,
    private readonly snapshot: Snapshot,
    private readonly upstream: Upstream,
    private readonly first: Target,
    private readonly maxBody: number,
    private readonly codec: ExchangeCodec | undefined,
    /** Whole-request deadline in ms from the request start (0: none). */
    private readonly deadlineMs: number,
  ) {
    this.#policy = route.retry;
  }

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
    if (this.codec !== undefined) ({ body, length: contentLength } = this.codec.requestBody(body, contentLength));
    const policy = this.#policy;
    // Keep a copy only when a retry could use it: a declared length over the limit would never fit,
    // and a policy that only retries unsent requests resends a body nobody has read yet.
    if (body !== null && policy.attempts > 0 && policy.resendsSent && policy.maxReplayBody > 0 && (contentLength === null || contentLength <= policy.maxReplayBody)) {
      this.#replay = new ReplayBody(body, policy.maxReplayBody);
    }
    this.#withBody = body !== null;
    this.#body = body;
    this.#contentLength = contentLength;
    this.#request = request;
    if (this.deadlineMs > 0) {
      const left = this.deadlineMs - (performance.now() - ctx.startMono);
      if (left <= 0) {
        ctx.error = DEADLINE();
        return sendProblem(ctx, ctx.error);
      }
      this.#deadline = setTimeout(this.onDeadline, left);
    }
    if (policy.attempts > 0) (this.#budget = retryBudgetFor(this.upstream.name)).active++;
    res.once('close', this.onClientClose);
    this.startAttempt(this.first, false);
  }

  private startAttempt(target: Target, retry: boolean): void {
    const { ctx } = this;
    const request = this.#request;
    const previous = this.#attempt?.target;
    if (previous !== undefined && previous !== target) this.retarget(request, previous, target);
    ctx.target = target.info;
    ctx.error = undefined;
    ctx.upstreamMs = -1;
    ctx.attempts++;
    this.deadlineHeaders(request);
    const attempt = new Attempt(this, target, retry);
    this.#attempt = attempt;
    if (ctx.span !== undefined) attempt.span = startClientSpan(ctx.span, request, this.upstream, target);
    target.inflight++;
    const body = this.#replay !== undefined ? this.#replay.attach() : this.#body;
    try {
      attempt.handle = target.pool.request(
        {
          method: request.method,
          path: request.path,
          headers: request.headers.raw,
          body,
          contentLength: this.#contentLength,
          responseTimeoutMs: this.route.responseTimeoutMs ?? this.upstream.responseTimeoutMs,
          bodyIdleTimeoutMs: this.route.bodyIdleTimeoutMs ?? this.upstream.bodyIdleTimeoutMs,
        },
        attempt,
      );
    } catch (error) {
      const failure = toGatewayError(error, 'SLUICE_ERR_BAD_REQUEST');
      this.settleAttempt(attempt, failure.code);
      this.finish();
      sendProblem(ctx, failure);
    }
  }

  /** A retry on another target: its base path and (unless the Host is preserved) its authority. */
  private retarget(request: UpstreamRequest, from: Target, to: Target): void {
    if (from.basePath !== to.basePath && request.path.startsWith(from.basePath)) request.path = to.basePath + request.path.slice(from.basePath.length);
    const preserve = this.route.preserveHost ?? this.upstream.preserveHost;
    if (!preserve && request.headers.get('host') === from.authority) request.headers.set('host', to.authority);
  }

  /** Each attempt tells the upstream the budget left now (grpc-timeout, or X-Request-Timeout in ms). */
  private deadlineHeaders(request: UpstreamRequest): void {
    if (this.codec !== undefined) {
      this.codec.requestHeaders(request.headers, this.ctx);
      // gRPC carries it in grpc-timeout; a client's X-Request-Timeout must not pass on stale.
      if (!request.headers.has('x-request-timeout')) return;
    }
    if (this.deadlineMs <= 0) return;
    const left = this.deadlineMs - (performance.now() - this.ctx.startMono);
    request.headers.set('x-request-timeout', String(Math.max(1, Math.ceil(left))));
  }

  /** Whether the request may be sent again once it reached the upstream: method allowed (body checked apart). */
  private bodyReplayable(): boolean {
    if (!this.#withBody) return true;
    // Without a copy, only a body no attempt has read from can go to the next one.
    return this.#replay !== undefined ? this.#replay.replayable : this.#body?.readableDidRead === false;
  }

  /**
   * Abandon `attempt` and schedule the next one, if the policy, the deadline, the targets and the
   * budget allow. False: nothing changed, the caller delivers the failure.
   */
  private tryRetry(attempt: Attempt, reason: RetryReason, code: ErrorCode | undefined): boolean {
    const policy = this.#policy;
    if (this.#retries >= policy.attempts || this.ctx.res.headersSent) return false;
    const wait = backoffMs(policy, this.#retries + 1);
    if (this.deadlineMs > 0 && performance.now() - this.ctx.startMono + wait >= this.deadlineMs) return false;
    this.#tried.push(attempt.target);
    const next = retryTarget(this.upstream, this.ctx, this.#tried, policy.otherTargetOnly);
    if (next === undefined) return false;
    // The failed attempt's own slot is free now: a retry chain does not count against itself.
    if (attempt.retry) {
      attempt.retry = false;
      this.#budget!.retrying--;
    }
    if (!this.#budget!.tryAcquire(policy)) {
      this.upstream.series?.retryBudgetExhausted();
      return false;
    }
    attempt.handle?.abort();
    this.settleAttempt(attempt, code);
    this.#retries++;
    this.upstream.series?.retry(reason);
    this.#backoffSlot = true;
    this.#backoff = setTimeout(() => {
      this.#backoff = undefined;
      this.#backoffSlot = false;
      // finish() clears this timer, so the exchange is still live here.
      this.startAttempt(next, true);
    }, wait);
    return true;
  }

  private readonly onDeadline = (): void => {
    if (this.#done) return;
    const attempt = this.#attempt;
    attempt?.handle?.abort();
    const error = DEADLINE();
    this.ctx.error = error;
    if (attempt !== undefined) this.settleAttempt(attempt, error.code);
    this.finish();
    const res = this.ctx.res;
    if (!res.headersSent) return sendProblem(this.ctx, error);
    if (res.destroyed || res.writableEnded) return;
    // gRPC ends the stream with a status; plain HTTP must not let a cut body look complete.
    if (this.codec !== undefined) this.ctx.bytesSent += this.codec.fail(res, GrpcStatus.DEADLINE_EXCEEDED, 'deadline exceeded');
    else res.destroy(error);
  };

  /** Chunked bodies have no declared length: count them as they stream and cut at the limit. */
  private readonly onBodyTooLarge = (): void => {
    if (this.#done) return;
    const error = new GatewayError('SLUICE_ERR_BODY_TOO_LARGE', { detail: `body exceeds ${this.maxBody} bytes` });
    const attempt = this.#attempt;
    attempt?.handle?.abort();
    if (attempt !== undefined) this.settleAttempt(attempt, error.code);
    this.finish();
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
    if (this.#budget !== undefined) {
      this.#budget.active--;
      this.#budget = undefined;
    }
    if (this.#done) return;
    // The client went away mid-exchange: stop the upstream work (or the pending retry) too.
    const attempt = this.#attempt;
    attempt?.handle?.abort();
    this.ctx.error ??= new GatewayError('SLUICE_ERR_CLIENT_ABORTED');
    if (attempt !== undefined) this.settleAttempt(attempt, this.ctx.error.code);
    this.finish();
  };

  /** The request is over (answered, failed or abandoned): timers off, pending retry slot back. */
  private finish(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#deadline !== undefined) clearTimeout(this.#deadline);
    if (this.#backoff !== undefined) {
      clearTimeout(this.#backoff);
      this.#backoff = undefined;
      if (this.#backoffSlot) {
        this.#backoffSlot = false;
        retryBudgetFor(this.upstream.name).retrying--;
      }
    }
  }

  /** An attempt ended: target in-flight count, outcome observers, client span, budget slot. */
  private settleAttempt(attempt: Attempt, code: ErrorCode | undefined): void {
    if (attempt.settled) return;
    attempt.settled = true;
    const target = attempt.target;
    target.inflight--;
    if (attempt.retry) retryBudgetFor(this.upstream.name).retrying--;
    const observers = target.observers;
    if (observers.length > 0) {
      const outcome: AttemptOutcome = { kind: outcomeKind(code, attempt.status), status: attempt.status, durationMs: performance.now() - attempt.sentAt };
      for (let i = 0; i < observers.length; i++) observers[i]!.onOutcome(outcome);
    }
    attempt.span?.end({ status: attempt.status, errorCode: code });
  }

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

  onHeaders(attempt: Attempt, status: number, statusText: string, raw: string[]): void {
    if (this.#done) return;
    const upstreamMs = performance.now() - attempt.sentAt;
    this.ctx.upstreamMs = upstreamMs;
    attempt.status = status;
    this.upstream.series?.response(status, upstreamMs / 1000);
    if (this.#retries < this.#policy.attempts && (status >= 500 || this.codec !== undefined) && this.bodyReplayable()) {
      const reason = retryReasonForStatus(this.#policy, status, this.codec === undefined ? undefined : grpcStatusIn(raw));
      // gRPC calls are all POSTs: listing a grpc-* condition is the opt-in, the method list does not apply.
      if (reason !== undefined && (reason === 'grpc' || methodRetryable(this.#policy, this.ctx.method)) && this.tryRetry(attempt, reason, undefined)) return;
    }
    const headers = new HeaderList(forwardableResponseHeaders(raw));
    this.codec?.responseHeaders(headers);
    addResponseVia(headers, this.snapshot.proxy);
    const response: UpstreamResponse = { status, headers };
    let pending: void | Promise<void>;
    try {
      pending = runOnResponse(this.route.chain, this.ctx, response);
    } catch (error) {
      return this.failBeforeHead(attempt, toGatewayError(error, 'SLUICE_ERR_PLUGIN_FAILED'));
    }
    if (pending instanceof Promise) {
      this.#held = [];
      pending.then(
        () => this.writeHead(attempt, response, statusText),
        (error: unknown) => this.failBeforeHead(attempt, toGatewayError(error, 'SLUICE_ERR_PLUGIN_FAILED')),
      );
    } else this.writeHead(attempt, response, statusText);
  }

  private failBeforeHead(attempt: Attempt, error: GatewayError): void {
    if (this.#done) return;
    attempt.handle?.abort();
    this.settleAttempt(attempt, error.code);
    this.finish();
    sendProblem(this.ctx, error);
  }

  private writeHead(attempt: Attempt, response: UpstreamResponse, statusText: string): void {
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
      if (this.#heldEnd !== undefined) this.onEnd(attempt, this.#heldEnd);
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

  private readonly onDrain = (): void => this.#attempt?.handle?.resume();

  onEnd(attempt: Attempt, trailers: string[]): void {
    if (this.#held !== undefined) {
      this.#heldEnd = trailers;
      return;
    }
    if (this.#done) return;
    this.settleAttempt(attempt, undefined);
    this.finish();
    const res = this.ctx.res;
    if (res.destroyed) return;
    if (this.codec !== undefined) {
      this.ctx.bytesSent += this.codec.end(res, trailers);
      return;
    }
    if (trailers.length > 0 && !res.hasHeader('content-length')) res.addTrailers(trailerObject(trailers));
    res.end();
  }

  onError(attempt: Attempt, error: GatewayError, info: FailureInfo): void {
    if (this.#done) return;
    this.upstream.series?.error(error);
    const res = this.ctx.res;
    if (!info.responseStarted && !res.headersSent && this.#held === undefined && this.bodyReplayable()) {
      const reason = retryReasonForError(this.#policy, error.code, info.requestSent, methodRetryable(this.#policy, this.ctx.method));
      if (reason !== undefined && this.tryRetry(attempt, reason, error.code)) return;
    }
    this.ctx.error = error;
    this.settleAttempt(attempt, error.code);
    this.finish();
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

