import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PROBLEM_CONTENT_TYPE, toProblem, type GatewayError } from '../../errors/index.ts';
import type { AdminReply } from './types.ts';

/** Sent on every admin response; a route may override one (the docs page relaxes the CSP). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
});

/** Echoed ids are limited to a safe alphabet: they land in headers, logs and the audit trail. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
const JSON_TYPE = 'application/json; charset=utf-8';

export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
}

export function applyBaseHeaders(res: ServerResponse, requestId: string): void {
  for (const name in SECURITY_HEADERS) res.setHeader(name, SECURITY_HEADERS[name]!);
  res.setHeader('x-request-id', requestId);
}

/** Nothing is written to a client whose connection is gone (or to a response already started). */
function writable(res: ServerResponse): boolean {
  return !res.headersSent && !res.destroyed && !res.writableEnded;
}

function send(res: ServerResponse, status: number, contentType: string | undefined, body: Buffer | undefined): void {
  if (!writable(res)) return;
  const empty = status === 204 || status === 304 || body === undefined;
  if (!empty && contentType !== undefined) res.setHeader('content-type', contentType);
  res.setHeader('content-length', empty ? 0 : body.length);
  res.statusCode = status;
  // Node omits the body of a HEAD response by itself and keeps Content-Length.
  res.end(empty ? undefined : body);
}

/** Writes a handler's reply: strings and Buffers as is, anything else as JSON. */
export function sendReply(res: ServerResponse, reply: AdminReply): number {
  const status = reply.status ?? 200;
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  let body: Buffer | undefined;
  let type = reply.contentType;
  if (reply.body === undefined) body = undefined;
  else if (Buffer.isBuffer(reply.body)) body = reply.body;
  else if (typeof reply.body === 'string') body = Buffer.from(reply.body, 'utf8');
  else {
    body = Buffer.from(JSON.stringify(reply.body), 'utf8');
    type ??= JSON_TYPE;
  }
  send(res, status, type ?? 'application/octet-stream', body);
  return status;
}

/** RFC 9457 problem for an error; `extra` adds members such as `errors` for validation failures. */
export function sendProblem(res: ServerResponse, error: GatewayError, instance: string, requestId: string, extra?: Record<string, unknown>): number {
  for (const [name, value] of Object.entries(error.headers ?? {})) res.setHeader(name, value);
  const document = { ...toProblem(error, instance, requestId), ...extra };
  send(res, error.status, PROBLEM_CONTENT_TYPE, Buffer.from(JSON.stringify(document), 'utf8'));
  return error.status;
}
