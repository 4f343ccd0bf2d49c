import type { BalancerConfig, HashKeyConfig } from '../../config/schema/index.ts';
import { GatewayError } from '../../errors/index.ts';

export interface HashKeyInput {
  clientIp: string;
  /** Normalized path, no query. */
  path: string;
  /** Raw query string, with or without the leading '?'. */
  query: string;
  /** Node's request headers: names lower-case. */
  headers: Record<string, string | string[] | undefined>;
}

/** The request's hash key, or undefined when it has none (the balancer then round-robins). */
export type HashKeyExtractor = (input: HashKeyInput) => string | undefined;

const fromIp: HashKeyExtractor = (input) => input.clientIp || undefined;
const fromPath: HashKeyExtractor = (input) => input.path || '/';

/**
 * Compile the key extractor for an upstream's balancer, once per snapshot. Only ip-hash and
 * consistent-hash use a key; other algorithms get undefined (nothing to extract per request).
 * Both hashing algorithms default to the client IP. Empty values count as missing, so they spread
 * by round robin instead of all piling onto the one target that '' hashes to.
 */
export function compileHashKey(config: HashKeyConfig | undefined, algorithm: BalancerConfig['algorithm']): HashKeyExtractor | undefined {
  if (algorithm !== 'ip-hash' && algorithm !== 'consistent-hash') return undefined;
  if (config === undefined || config.source === 'ip') return fromIp;
  if (config.source === 'path') return fromPath;
  const name = config.name;
  if (!name) {
    throw new GatewayError('SLUICE_ERR_CONFIG_INVALID', { detail: `balancer.hashOn.name is required when hashOn.source is '${config.source}'` });
  }
  if (config.source === 'header') return headerExtractor(name.toLowerCase());
  if (config.source === 'cookie') return cookieExtractor(name);
  return queryExtractor(name);
}

function headerExtractor(lowerName: string): HashKeyExtractor {
  return (input) => {
    const v = input.headers[lowerName];
    // A repeated header keys on its first value: joining would allocate and rarely matters.
    const s = typeof v === 'string' ? v : v?.[0];
    return s || undefined;
  };
}

function cookieExtractor(name: string): HashKeyExtractor {
  const prefix = `${name}=`;
  return (input) => {
    const c = input.headers.cookie;
    if (typeof c === 'string') return findCookie(c, prefix);
    if (c === undefined) return undefined;
    // HTTP/2 may deliver cookie crumbs as separate values.
    for (let i = 0; i < c.length; i++) {
      const v = findCookie(c[i]!, prefix);
      if (v !== undefined) return v;
    }
    return undefined;
  };
}

/** Value of the cookie `prefix` (= "name=") in a Cookie header, scanning only for that name. */
export function findCookie(header: string, prefix: string): string | undefined {
  let from = 0;
  for (;;) {
    const at = header.indexOf(prefix, from);
    if (at < 0) return undefined;
    if (atPairStart(header, at, 0x3b /* ; */)) {
      const start = at + prefix.length;
      let end = header.indexOf(';', start);
      if (end < 0) end = header.length;
      while (end > start && header.charCodeAt(end - 1) <= 0x20) end--;
      let value = header.slice(start, end);
      if (value.length >= 2 && value.charCodeAt(0) === 0x22 && value.charCodeAt(value.length - 1) === 0x22) value = value.slice(1, -1);
      return value || undefined;
    }
    from = at + 1;
  }
}

/** Is `at` the start of a name=value pair, i.e. preceded only by spaces since a separator? */
function atPairStart(s: string, at: number, separator: number): boolean {
  let i = at - 1;
  while (i >= 0 && (s.charCodeAt(i) === 0x20 || s.charCodeAt(i) === 0x09)) i--;
  return i < 0 || s.charCodeAt(i) === separator;
}

function queryExtractor(name: string): HashKeyExtractor {
  const prefix = `${name}=`;
  return (input) => findQueryParam(input.query, prefix);
}

/** Decoded value of the first `prefix` (= "name=") parameter in a raw query string. */
export function findQueryParam(query: string, prefix: string): string | undefined {
  let from = query.charCodeAt(0) === 0x3f /* ? */ ? 1 : 0;
  for (;;) {
    const at = query.indexOf(prefix, from);
    if (at < 0) return undefined;
    if (at === 0 || query.charCodeAt(at - 1) === 0x26 /* & */ || (at === 1 && query.charCodeAt(0) === 0x3f)) {
      const start = at + prefix.length;
      let end = query.indexOf('&', start);
      if (end < 0) end = query.length;
      const raw = query.slice(start, end);
      return raw ? decodeQueryValue(raw) : undefined;
    }
    from = at + 1;
  }
}

/** Form-decode a value ('+' is a space); a malformed escape leaves the value raw. */
function decodeQueryValue(raw: string): string {
  if (raw.indexOf('%') < 0 && raw.indexOf('+') < 0) return raw;
  const spaced = raw.indexOf('+') < 0 ? raw : raw.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return raw;
  }
}
