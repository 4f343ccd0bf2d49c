import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors/index.ts';
import { countHeader } from '../proxy/headers.ts';
import { normalizePath } from '../router/index.ts';

export interface RequestHead {
  /** Host without port, lower-cased. */
  host: string;
  /** Host header as the client sent it (host[:port]), for forwarding. */
  authority: string;
  path: string;
  query: string;
}

function hostWithoutPort(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end === -1 ? authority : authority.slice(0, end + 1).toLowerCase();
  }
  const colon = authority.indexOf(':');
  return (colon === -1 ? authority : authority.slice(0, colon)).toLowerCase();
}

/**
 * Checks RFC 9112 leaves to us (node:http already rejects CL+TE, differing Content-Length, bare LF,
 * control characters, obs-fold and a missing HTTP/1.1 Host) and derives host, path and query.
 */
export function parseRequestHead(req: IncomingMessage): RequestHead | GatewayError {
  if (req.httpVersionMajor === 2) return parseH2Head(req);
  const raw = req.rawHeaders;
  const hosts = countHeader(raw, 'host');
  if (hosts > 1) return new GatewayError('SLUICE_ERR_BAD_HOST', { detail: 'more than one Host header' });
  if (hosts === 0 && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) {
    return new GatewayError('SLUICE_ERR_BAD_HOST', { detail: 'HTTP/1.1 request without Host' });
  }
  const te = req.headers['transfer-encoding'];
  // Only a lone "chunked" is unambiguous: anything else could be framed differently upstream.
  if (te !== undefined && te.toLowerCase() !== 'chunked') {
    return new GatewayError('SLUICE_ERR_AMBIGUOUS_FRAMING', { detail: `unsupported Transfer-Encoding "${te}"` });
  }
  const target = req.url ?? '';
  let authority = req.headers.host ?? '';
  if (!target.startsWith('/')) {
    // absolute-form: the target's authority replaces Host (RFC 9112 §3.2.2)
    if (!/^https?:\/\//i.test(target)) return new GatewayError('SLUICE_ERR_BAD_REQUEST', { detail: 'unsupported request target' });
    try {
      authority = new URL(target).host;
    } catch {
      return new GatewayError('SLUICE_ERR_BAD_REQUEST', { detail: 'invalid request target' });
    }
  }
  return withPath(authority, target);
}

function withPath(authority: string, target: string): RequestHead | GatewayError {
  const normalized = normalizePath(target);
  if (normalized === null) return new GatewayError('SLUICE_ERR_BAD_REQUEST', { detail: 'invalid request path' });
  return { host: hostWithoutPort(authority), authority, path: normalized.path, query: normalized.query };
}

/**
 * HTTP/2 (RFC 9113 §8.3.1): the authority is `:authority`, else Host; the target is `:path`
 * (origin-form; nghttp2 already rejected connection-specific fields and bad pseudo-headers).
 */
function parseH2Head(req: IncomingMessage): RequestHead | GatewayError {
  const headers = req.headers;
  const pseudo = headers[':authority'];
  const authority = typeof pseudo === 'string' && pseudo !== '' ? pseudo : headers.host;
  if (authority === undefined || authority === '') return new GatewayError('SLUICE_ERR_BAD_HOST', { detail: 'HTTP/2 request without :authority or Host' });
  if (countHeader(req.rawHeaders, 'host') > 1) return new GatewayError('SLUICE_ERR_BAD_HOST', { detail: 'more than one Host header' });
  const target = req.url ?? '';
  if (!target.startsWith('/')) return new GatewayError('SLUICE_ERR_BAD_REQUEST', { detail: 'unsupported request target' });
  return withPath(authority, target);
}
