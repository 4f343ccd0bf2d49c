/**
 * Per-hop header handling (RFC 9110 §7.6.1): what a proxy must not forward, and the forwarding
 * headers it adds. Works on flat [name, value, …] arrays to avoid building header objects.
 */

/** Always hop-by-hop, whether or not Connection lists them. Framing headers are re-made per hop. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
]);

/**
 * Request headers the gateway re-makes itself: framing (the upstream client frames the body),
 * Expect (the gateway answers 100-continue), Host and the forwarding headers.
 */
const REQUEST_CONSUMED = new Set(['content-length', 'expect', 'host', 'x-forwarded-for', 'forwarded', 'via']);

function connectionTokens(raw: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== 10 || name.toLowerCase() !== 'connection') continue;
    for (const token of raw[i + 1]!.split(',')) {
      const t = token.trim().toLowerCase();
      if (t !== '') (tokens ??= new Set()).add(t);
    }
  }
  return tokens;
}

function copyWithout(raw: readonly string[], drop: Set<string>, extra: Set<string> | undefined, out: string[]): string[] {
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    // HTTP/2 pseudo-headers (:method, :authority …) describe this hop only; the next one gets its own.
    if (lower.charCodeAt(0) === 58 /* : */) continue;
    if (drop.has(lower) || HOP_BY_HOP.has(lower) || (extra !== undefined && extra.has(lower))) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/**
 * Copy client request headers for the upstream hop: hop-by-hop and Connection-listed headers
 * removed, and the headers the gateway re-writes itself (Host, X-Forwarded-For, Forwarded, Via,
 * Expect) left out for the caller to add.
 */
export function forwardableRequestHeaders(raw: readonly string[]): string[] {
  return copyWithout(raw, REQUEST_CONSUMED, connectionTokens(raw), []);
}

/**
 * The same for an HTTP/2 client going to an HTTP/1.1 upstream: pseudo-headers (`:method`, `:path`,
 * `:authority`, `:scheme`) are not headers on HTTP/1.1 (the gateway adds Host), and the cookie
 * fields HTTP/2 splits are joined into one with "; " (RFC 9113 §8.2.3).
 */
export function forwardableH2RequestHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  let cookie: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) === 58 /* ':' */) continue;
    if (name === 'cookie') {
      cookie = cookie === undefined ? raw[i + 1]! : `${cookie}; ${raw[i + 1]!}`;
      continue;
    }
    if (REQUEST_CONSUMED.has(name) || HOP_BY_HOP.has(name)) continue;
    out.push(name, raw[i + 1]!);
  }
  if (cookie !== undefined) out.push('cookie', cookie);
  return out;
}

const NO_EXTRA = new Set<string>();

/** Copy upstream response headers for the client hop. */
export function forwardableResponseHeaders(raw: readonly string[]): string[] {
  return copyWithout(raw, NO_EXTRA, connectionTokens(raw), []);
}

/** All values of one header (case-insensitive) joined with ", ", or undefined. */
export function joinedHeader(raw: readonly string[], lowerName: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== lowerName.length || name.toLowerCase() !== lowerName) continue;
    value = value === undefined ? raw[i + 1]! : `${value}, ${raw[i + 1]!}`;
  }
  return value;
}

/** Count occurrences of a header (for duplicate Host detection). */
export function countHeader(raw: readonly string[], lowerName: string): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) n++;
  }
  return n;
}

/** RFC 7239 node: IPv6 addresses are quoted and bracketed. */
export function forwardedNode(ip: string): string {
  return ip.includes(':') ? `"[${ip}]"` : ip;
}

/** Strip the IPv4-mapped IPv6 prefix so logs and X-Forwarded-For show plain IPv4. */
export function plainIp(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
