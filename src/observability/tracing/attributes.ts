// HTTP semantic-convention helpers. Incubating attribute names are copied here, as the
// semantic-conventions package advises, since its `incubating` entry point may break in minors.

export const ATTR_HTTP_REQUEST_BODY_SIZE = 'http.request.body.size';
export const ATTR_HTTP_RESPONSE_BODY_SIZE = 'http.response.body.size';
export const ATTR_HOST_NAME = 'host.name';
export const ATTR_PROCESS_PID = 'process.pid';
export const ATTR_SLUICE_UPSTREAM = 'sluice.upstream';
export const ATTR_SLUICE_TARGET = 'sluice.target';
/** The gateway's stable error code, also on 4xx where error.type stays unset. */
export const ATTR_SLUICE_ERROR_CODE = 'sluice.error_code';

const KNOWN_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE']);

/** http.request.method per semconv: known methods as-is, anything else `_OTHER`. */
export function normalizeMethod(method: string): { value: string; original?: string; spanName: string } {
  if (KNOWN_METHODS.has(method)) return { value: method, spanName: method };
  const upper = method.toUpperCase();
  if (KNOWN_METHODS.has(upper)) return { value: upper, original: method, spanName: upper };
  return { value: '_OTHER', original: method, spanName: 'HTTP' };
}

/** Host header → address and port (`[::1]:8080`, `example.com`, `10.0.0.1:80`). */
export function splitHost(host: string): { address: string; port: number | undefined } {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0) return { address: host, port: undefined };
    return { address: host.slice(1, end), port: portOf(host.slice(end + 1)) };
  }
  const colon = host.lastIndexOf(':');
  // More than one colon without brackets: a bare IPv6 address, no port.
  if (colon < 0 || host.indexOf(':') !== colon) return { address: host, port: undefined };
  return { address: host.slice(0, colon), port: portOf(host.slice(colon)) };
}

function portOf(rest: string): number | undefined {
  if (!rest.startsWith(':')) return undefined;
  const n = Number(rest.slice(1));
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : undefined;
}

// Semconv's list (signed-URL credentials) plus the access log's default redacted parameters.
const REDACTED_PARAMS = new Set(['awsaccesskeyid', 'signature', 'sig', 'x-goog-signature', 'access_token', 'api_key', 'apikey', 'token', 'password', 'secret']);
const MAYBE_SENSITIVE = /awsaccesskeyid|signature|sig|access_token|api_?key|token|password|secret/i;

/** Query string with credential-like parameter values replaced by REDACTED (semconv url.query). */
export function redactQuery(query: string): string {
  if (!MAYBE_SENSITIVE.test(query)) return query; // the common case: one regex test, no split
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      let name = pair.slice(0, eq);
      try {
        name = decodeURIComponent(name);
      } catch {
        // keep the raw name
      }
      return REDACTED_PARAMS.has(name.toLowerCase()) ? `${pair.slice(0, eq)}=REDACTED` : pair;
    })
    .join('&');
}

/** Path plus query with the query redacted. */
export function redactPath(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : `${path.slice(0, q)}?${redactQuery(path.slice(q + 1))}`;
}

/** `scheme://host[:port]path`, brackets around IPv6, default ports left out. */
export function fullUrl(scheme: 'http' | 'https', address: string, port: number, path: string): string {
  const host = address.includes(':') ? `[${address}]` : address;
  const defaultPort = scheme === 'https' ? 443 : 80;
  return `${scheme}://${host}${port === defaultPort ? '' : `:${port}`}${redactPath(path)}`;
}
