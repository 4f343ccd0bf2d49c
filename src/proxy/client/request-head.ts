import { GatewayError } from '../../errors/index.ts';
import type { UpstreamCall } from './types.ts';

/**
 * Request validation and head serialisation, shared by both pool implementations. Validation runs
 * synchronously in `request()` so a bad header fails the call before any socket is touched.
 */

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What node:http itself refuses in a header value (CTLs except HTAB, and non-latin1). */
const INVALID_VALUE_RE = /[^\t\x20-\x7e\x80-\xff]/;
/** Origin-form / asterisk-form target: visible latin1 only (no SP, CTLs). */
const INVALID_PATH_RE = /[^\x21-\xff]/;

/** Methods whose requests carry a body by definition: send `Content-Length: 0` when there is none. */
const PAYLOAD_METHODS = new Set(['POST', 'PUT', 'PATCH']);

export interface PreparedHead {
  head: string;
  /** The caller asked for `Connection: close`: do not reuse the connection afterwards. */
  close: boolean;
}

function badRequest(detail: string): GatewayError {
  return new GatewayError('SLUICE_ERR_BAD_REQUEST', { detail });
}

function checkRequestLine(call: UpstreamCall): void {
  if (!TOKEN_RE.test(call.method)) throw badRequest('invalid request method');
  if (call.path.length === 0 || INVALID_PATH_RE.test(call.path)) throw badRequest('invalid request target');
  if ((call.headers.length & 1) !== 0) throw badRequest('odd header list');
}

function checkField(name: string, value: string): void {
  if (!TOKEN_RE.test(name)) throw badRequest('invalid header name');
  if (INVALID_VALUE_RE.test(value)) throw badRequest('invalid header value');
}

/**
 * Framing headers are ours to set: a caller-supplied Content-Length or Transfer-Encoding could
 * contradict the body we actually send (a smuggling vector), so they are dropped.
 */
export function isFramingHeader(name: string): boolean {
  const n = name.length;
  if (n !== 14 && n !== 17) return false;
  const lower = name.toLowerCase();
  return lower === 'content-length' || lower === 'transfer-encoding';
}

function isConnectionClose(name: string, value: string): boolean {
  return name.length === 10 && name.toLowerCase() === 'connection' && /(?:^|,)\s*close\s*(?:,|$)/i.test(value);
}

function framing(call: UpstreamCall): string {
  if (call.body === null) {
    return PAYLOAD_METHODS.has(call.method) || (call.contentLength !== null && call.contentLength > 0)
      ? 'Content-Length: 0\r\n'
      : '';
  }
  if (call.contentLength !== null) return `Content-Length: ${call.contentLength}\r\n`;
  return 'Transfer-Encoding: chunked\r\n';
}

/** Validate the call and build its head as one latin1 string, ending with the blank line. Throws. */
export function prepareHead(call: UpstreamCall): PreparedHead {
  checkRequestLine(call);
  const cl = call.contentLength;
  if (cl !== null && (!Number.isSafeInteger(cl) || cl < 0)) throw badRequest('invalid content length');
  const headers = call.headers;
  let head = `${call.method} ${call.path} HTTP/1.1\r\n`;
  let close = false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    checkField(name, value);
    if (isFramingHeader(name)) continue;
    if (isConnectionClose(name, value)) close = true;
    head += `${name}: ${value}\r\n`;
  }
  return { head: head + framing(call) + '\r\n', close };
}

/** Validate the call for a client that serialises itself (undici); returns headers without framing. */
export function validateCall(call: UpstreamCall): string[] {
  checkRequestLine(call);
  const cl = call.contentLength;
  if (cl !== null && (!Number.isSafeInteger(cl) || cl < 0)) throw badRequest('invalid content length');
  const headers = call.headers;
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    checkField(name, value);
    if (!isFramingHeader(name)) out.push(name, value);
  }
  return out;
}
