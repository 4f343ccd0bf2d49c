import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AccessLog } from '../observability/access-log.ts';
import type { RequestMetrics } from '../observability/request-metrics.ts';
import type { RequestTracer } from '../observability/tracing/index.ts';
import { GatewayError, toGatewayError } from '../errors/index.ts';
import { runOnLog, runOnRequest } from '../plugins/chain.ts';
import { forward, type ForwardInput } from '../proxy/forward.ts';
import { plainIp } from '../proxy/headers.ts';
import type { DirectResponse, RequestContext } from './context.ts';
import { parseRequestHead } from './request-head.ts';
import { nextRequestId } from './request-id.ts';
import { sendDirect, sendProblem } from './respond.ts';
import type { CompiledRoute, Snapshot } from './snapshot.ts';
import { clientCertOf, type ClientCertHeaders } from '../server/client-cert.ts';

/** Per-listener settings the pipeline needs, fixed when the listener starts. */
export interface ListenerRuntime {
  readonly name: string;
  readonly scheme: 'http' | 'https';
  port: number;
  maxBodySize: number;
  /** Peers whose X-Forwarded-Proto/-Host/-Port are kept; others get ours. */
  trustedPeers: ReadonlySet<string>;
  /** mTLS (`tls.clientAuth`): expose the verified client certificate on the context. */
  clientAuth: boolean;
  /** Client identity headers forwarded upstream (and stripped from client requests). */
  clientCertHeaders: ClientCertHeaders | undefined;
}

export interface PipelineHost {
  /** The snapshot in force now; each request pins the one it started with. */
  current(): Snapshot;
  readonly logger: Logger;
  readonly accessLog: AccessLog | undefined;
  /** Per-request metrics and the admin summary; undefined while `observability.metrics.enabled` is false. */
  readonly metrics?: RequestMetrics | undefined;
  /** OpenTelemetry tracer; undefined while tracing is off (the only cost then is this check). */
  readonly tracer?: RequestTracer | undefined;
}

/**
 * A protocol upgrade (WebSocket) routed and authorized like any request (route match, onRequest),
 * then handed to its own forwarder instead of forward().
 */
export interface UpgradeForwarder {
  /** Handshake problems, checked before routing; undefined when the upgrade request is well formed. */
  check(): GatewayError | undefined;
  /**
   * Take over after onRequest. `established()` (called once the protocol switched) counts the
   * request as finished in metrics and releases the snapshot: a long-lived tunnel must not keep
   * an old config's pools and plugins alive. The access log is still written when it closes.
   */
  forward(input: ForwardInput, established: () => void): void;
}

function createContext(req: IncomingMessage, res: ServerResponse, listener: ListenerRuntime): RequestContext {
  const socket = req.socket;
  return {
    id: nextRequestId(),
    startedAt: Date.now(),
    startMono: performance.now(),
    listener: listener.name,
    scheme: listener.scheme,
    clientIp: plainIp(socket.remoteAddress),
    clientPort: socket.remotePort ?? 0,
    clientCert: listener.clientAuth ? clientCertOf(socket) : undefined,
    method: req.method ?? 'GET',
    host: '',
    path: req.url ?? '/',
    query: '',
    headers: req.headers,
    req,
    res,
    route: undefined,
    params: {},
    target: undefined,
    status: 0,
    bytesSent: 0,
    bytesReceived: 0,
    upstreamMs: -1,
    attempts: 0,
    traceId: '',
    span: undefined,
    error: undefined,
    responseHeaders: [],
    state: {},
  };
}

function startServerSpan(tracer: RequestTracer, ctx: RequestContext, listener: ListenerRuntime, authority: string): void {
  const span = tracer.startServer({
    method: ctx.method,
    scheme: ctx.scheme,
    host: authority,
    path: ctx.path,
    query: ctx.query,
    headers: ctx.headers,
    clientIp: ctx.clientIp,
    clientPort: ctx.clientPort,
    listenerPort: listener.port,
    startTime: performance.timeOrigin + ctx.startMono,
  });
  ctx.span = span;
  ctx.traceId = span.traceId;
}

/** Entry point for every request on a public listener (and, with `upgrade`, every upgrade request). */
export function handleRequest(
  host: PipelineHost,
  listener: ListenerRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  upgrade?: UpgradeForwarder,
): void {
  const snapshot = host.current();
  snapshot.acquire();
  const ctx = createContext(req, res, listener);
  // The metrics in force when the request started get its end too (in-flight stays balanced).
  const metrics = host.metrics;
  if (metrics !== undefined) metrics.inflight++;
  let route: CompiledRoute | undefined;
  // An upgrade that switched protocols was recorded and released its snapshot already (see UpgradeForwarder).
  let upgraded = false;
  res.once('close', () => {
    if (upgraded) return finish(host, snapshot, ctx, route, undefined);
    finish(host, snapshot, ctx, route, metrics);
    if (metrics !== undefined) metrics.inflight--;
    snapshot.release();
  });
  const head = parseRequestHead(req);
  const tracer = host.tracer;
  if (head instanceof GatewayError) {
    // Rejected requests are traced too (raw target, Host as sent), so a caller's 400 has its span.
    if (tracer !== undefined) {
      // HTTP/2 clients name the host in :authority.
      const host = req.headers[':authority'] ?? req.headers.host;
      startServerSpan(tracer, ctx, listener, typeof host === 'string' ? host : '');
    }
    return sendProblem(ctx, head);
  }
  const mutable = ctx as { host: string; path: string; query: string };
  mutable.host = head.host;
  mutable.path = head.path;
  mutable.query = head.query;
  if (tracer !== undefined) startServerSpan(tracer, ctx, listener, head.authority);
  const refused = upgrade?.check();
  if (refused !== undefined) return sendProblem(ctx, refused);
  const table = snapshot.routeTables.get(listener.name)!;
  const result = table.match(ctx);
  if (result.kind === 'not-found') return sendProblem(ctx, new GatewayError('SLUICE_ERR_ROUTE_NOT_FOUND', { detail: `no route for ${ctx.method} ${ctx.path}` }));
  if (result.kind === 'method-not-allowed') {
    const allow = result.allow.join(', ');
    return sendProblem(ctx, new GatewayError('SLUICE_ERR_METHOD_NOT_ALLOWED', { detail: `allowed: ${allow}`, headers: { allow } }));
  }
  route = result.value;
  ctx.route = route.info;
  ctx.span?.setRoute(route.info.name);
  ctx.params = result.params;
  const matched = route;
  if (upgrade !== undefined && matched.websocket === undefined) {
    return sendProblem(ctx, new GatewayError('SLUICE_ERR_UPGRADE_NOT_ALLOWED', { detail: 'this route does not accept WebSocket upgrades' }));
  }
  const next =
    upgrade === undefined
      ? undefined
      : (input: ForwardInput) =>
          upgrade.forward(input, () => {
            if (upgraded) return;
            upgraded = true;
            if (metrics !== undefined) {
              metrics.record(ctx, matched.series, performance.now() - ctx.startMono);
              metrics.inflight--;
            }
            snapshot.release();
          });
  try {
    const outcome = runOnRequest(matched.chain, ctx);
    if (outcome instanceof Promise) {
      outcome.then(
        (direct) => afterOnRequest(snapshot, listener, ctx, matched, head.authority, direct, next),
        (error: unknown) => sendProblem(ctx, toGatewayError(error, 'SLUICE_ERR_PLUGIN_FAILED')),
      );
    } else afterOnRequest(snapshot, listener, ctx, matched, head.authority, outcome, next);
  } catch (error) {
    sendProblem(ctx, toGatewayError(error, 'SLUICE_ERR_PLUGIN_FAILED'));
  }
}

function afterOnRequest(
  snapshot: Snapshot,
  listener: ListenerRuntime,
  ctx: RequestContext,
  route: CompiledRoute,
  authority: string,
  direct: void | DirectResponse,
  forwarder: ((input: ForwardInput) => void) | undefined,
): void {
  if (direct !== undefined) return sendDirect(ctx, direct);
  if (ctx.res.destroyed) return;
  if (forwarder !== undefined) return forwarder({ snapshot, listener, ctx, route, authority, maxBody: 0 });
  const maxBody = route.maxBodySize ?? listener.maxBodySize;
  const declared = ctx.req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBody) {
    return sendProblem(ctx, new GatewayError('SLUICE_ERR_BODY_TOO_LARGE', { detail: `body exceeds ${maxBody} bytes` }));
  }
  forward({ snapshot, listener, ctx, route, authority, maxBody });
}

/** The request is over: onLog, metrics (unless already recorded: undefined), span, access log. */
function finish(
  host: PipelineHost,
  snapshot: Snapshot,
  ctx: RequestContext,
  route: CompiledRoute | undefined,
  metrics: RequestMetrics | undefined,
): void {
  if (ctx.status === 0) ctx.status = ctx.res.headersSent ? ctx.res.statusCode : 499;
  const chain = route?.chain ?? snapshot.globalChain;
  runOnLog(chain, ctx, ctx.error, host.logger);
  const durationMs = performance.now() - ctx.startMono;
  metrics?.record(ctx, route?.series, durationMs);
  ctx.span?.end({ status: ctx.status, errorCode: ctx.error?.code, responseBytes: ctx.bytesSent, requestBytes: ctx.bytesReceived });
  host.accessLog?.write(ctx, durationMs);
}
