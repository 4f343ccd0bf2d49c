import type { ServerResponse } from 'node:http';
import { GatewayError, PROBLEM_CONTENT_TYPE, problemBody } from '../errors/index.ts';
import { grpcKind, grpcMessageOf, grpcStatusOf, grpcStatusOfHttp, sendTrailersOnly } from '../proxy/grpc.ts';
import type { DirectResponse, RequestContext } from './context.ts';

/**
 * While the gateway drains (its listener stopped accepting), every response tells the client to
 * close its keep-alive connection, so no client sends a request on a connection about to close.
 */
export function closeWhenDraining(res: ServerResponse): void {
  // res.socket, not req.socket: a consumed request body may already have released its socket.
  const server = (res.socket as { server?: { listening?: boolean } } | null)?.server;
  if (server !== undefined && server.listening === false) res.shouldKeepAlive = false;
}

/** True when nothing may be written any more: the client is gone or the head went out already. */
export function cannotRespond(res: ServerResponse): boolean {
  return res.headersSent || res.destroyed || res.writableEnded;
}

function applyExtraHeaders(res: ServerResponse, extra: readonly string[]): void {
  for (let i = 0; i < extra.length; i += 2) res.appendHeader(extra[i]!, extra[i + 1]!);
}

/** Send an RFC 9457 problem response for a gateway error; a gone client gets nothing. */
export function sendProblem(ctx: RequestContext, error: GatewayError): void {
  ctx.error = error;
  const res = ctx.res;
  if (cannotRespond(res)) {
    if (!res.destroyed && !res.writableEnded) res.destroy(error);
    return;
  }
  const grpc = grpcKind(ctx.headers['content-type']);
  if (grpc !== undefined) {
    // gRPC clients read a status from trailers-only headers, never an HTTP error page.
    ctx.status = 200;
    return sendTrailersOnly(res, grpc, grpcStatusOf(error), grpcMessageOf(error), ctx.responseHeaders, !ctx.req.complete);
  }
  const body = problemBody(error, ctx.path, ctx.id);
  ctx.status = error.status;
  res.statusCode = error.status;
  res.setHeader('content-type', PROBLEM_CONTENT_TYPE);
  res.setHeader('content-length', Buffer.byteLength(body));
  res.setHeader('cache-control', 'no-store');
  if (error.headers !== undefined) for (const [k, v] of Object.entries(error.headers)) res.setHeader(k, v);
  applyExtraHeaders(res, ctx.responseHeaders);
  // A request whose body was not read would poison the keep-alive connection: close it.
  if (!ctx.req.complete) res.setHeader('connection', 'close');
  closeWhenDraining(res);
  ctx.bytesSent = Buffer.byteLength(body);
  res.end(ctx.method === 'HEAD' ? undefined : body);
}

/** Send a plugin's direct response (auth denial, preflight, mock). */
export function sendDirect(ctx: RequestContext, direct: DirectResponse): void {
  const res = ctx.res;
  if (cannotRespond(res)) return;
  const grpc = direct.status >= 400 ? grpcKind(ctx.headers['content-type']) : undefined;
  if (grpc !== undefined) {
    // A plugin's denial (401, 403, 429) as the matching gRPC status.
    ctx.status = 200;
    for (const [k, v] of Object.entries(direct.headers ?? {})) res.setHeader(k, v);
    const message = typeof direct.body === 'string' ? direct.body : `HTTP ${direct.status}`;
    return sendTrailersOnly(res, grpc, grpcStatusOfHttp(direct.status), message, ctx.responseHeaders, !ctx.req.complete);
  }
  let body: string | Buffer | undefined;
  let contentType: string | undefined;
  if (typeof direct.body === 'string' || Buffer.isBuffer(direct.body)) body = direct.body;
  else if (direct.body !== undefined) {
    body = JSON.stringify(direct.body);
    contentType = 'application/json';
  }
  ctx.status = direct.status;
  res.statusCode = direct.status;
  if (contentType !== undefined) res.setHeader('content-type', contentType);
  for (const [k, v] of Object.entries(direct.headers ?? {})) res.setHeader(k, v);
  applyExtraHeaders(res, ctx.responseHeaders);
  if (body !== undefined) {
    res.setHeader('content-length', Buffer.byteLength(body));
    ctx.bytesSent = Buffer.byteLength(body);
  }
  if (!ctx.req.complete) res.setHeader('connection', 'close');
  closeWhenDraining(res);
  res.end(ctx.method === 'HEAD' ? undefined : body);
}
