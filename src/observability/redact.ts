import pino from 'pino';
import type { RedactConfig } from '../config/schema/observability.ts';

export const REDACTED = '[redacted]';

/** Request/response headers that carry credentials: masked in every log line, whatever the config says. */
export const ALWAYS_REDACTED_HEADERS: readonly string[] = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key'];
/** Query parameters masked in every logged URL or query string. */
export const DEFAULT_REDACTED_QUERY_PARAMS: readonly string[] = ['access_token', 'api_key', 'apikey', 'token', 'password', 'secret'];
/** Object keys masked at any depth besides the header names and query parameters above. */
const DEFAULT_REDACTED_FIELDS: readonly string[] = ['password', 'secret', 'token'];

/** Walk at most this deep and this many nodes per log call: a huge object cannot stall the process. */
const MAX_DEPTH = 10;
const MAX_NODES = 5000;

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function isPlainLike(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

interface Walk {
  nodes: number;
  seen: Set<object>;
}

/**
 * What log lines must never show, updated by the gateway on each config apply. One instance is
 * shared by the app logger's log hook and the access log, so a new redact list applies to both.
 */
export class Redactor {
  /** Lower-cased header names masked in headers objects, flat header lists and access lines. */
  #headers = new Set<string>(ALWAYS_REDACTED_HEADERS);
  /** Lower-cased object keys masked at any depth: headers, query parameters and body fields. */
  #keys = new Set<string>();
  /** Lower-cased query parameter names. */
  #params = new Set<string>(DEFAULT_REDACTED_QUERY_PARAMS);
  /** Finds `name=value` pairs of masked parameters in any string (URLs, query strings, messages). */
  #paramRe!: RegExp;
  /** Quick test: may this raw query string carry a masked parameter (before decoding names)? */
  #queryRe!: RegExp;

  constructor(config?: RedactConfig) {
    this.update(config);
  }

  update(config: RedactConfig | undefined): void {
    const lower = (list: readonly string[] | undefined) => (list ?? []).map((s) => s.toLowerCase());
    this.#headers = new Set([...ALWAYS_REDACTED_HEADERS, ...lower(config?.headers)]);
    this.#params = new Set([...DEFAULT_REDACTED_QUERY_PARAMS, ...lower(config?.queryParams)]);
    this.#keys = new Set([...this.#headers, ...this.#params, ...DEFAULT_REDACTED_FIELDS, ...lower(config?.bodyFields)]);
    const names = [...this.#params].sort((a, b) => b.length - a.length).map(escapeRe).join('|');
    this.#paramRe = new RegExp(`(^|[?&;])(${names})=([^&#;\\s"'<>]*)`, 'gi');
    this.#queryRe = new RegExp(`(?:^|&)(?:${names})(?:=|&|$)`, 'i');
  }

  /** A header whose value is never logged (name in any case). */
  isRedactedHeader(name: string): boolean {
    return this.#headers.has(name.toLowerCase());
  }

  /**
   * A raw query string (no leading '?') with masked parameters' values replaced by [redacted].
   * Returns the same string when nothing is masked (the common case, no allocation); parameter
   * names are compared case-insensitively and percent-decoded.
   */
  maskQuery(query: string): string {
    if (query === '') return query;
    if (!this.#queryRe.test(query) && !query.includes('%') && !query.includes('+')) return query;
    let changed = false;
    const parts = query.split('&');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const eq = part.indexOf('=');
      const rawName = eq < 0 ? part : part.slice(0, eq);
      let name = rawName;
      if (name.includes('%') || name.includes('+')) {
        try {
          name = decodeURIComponent(name.replace(/\+/g, ' '));
        } catch {
          // a malformed escape: compare the raw name
        }
      }
      if (eq >= 0 && this.#params.has(name.toLowerCase())) {
        parts[i] = `${rawName}=${REDACTED}`;
        changed = true;
      }
    }
    return changed ? parts.join('&') : query;
  }

  /** Masks `param=value` of masked parameters anywhere in a string (a URL, a message). */
  maskString(value: string): string {
    if (!value.includes('=')) return value;
    this.#paramRe.lastIndex = 0;
    return value.replace(this.#paramRe, (_m, sep: string, name: string) => `${sep}${name}=${REDACTED}`);
  }

  /**
   * A copy of a logged value with secrets masked: keys named like a redacted header, query
   * parameter or body field (any depth, any case), the value after a redacted header name in flat
   * header lists (rawHeaders), and masked query parameters inside strings. Objects that need no
   * change are returned as they are: the caller's objects are never modified.
   */
  redact<T>(value: T): T {
    return this.#walk(value, 0, { nodes: 0, seen: new Set() }) as T;
  }

  #walk(value: unknown, depth: number, walk: Walk): unknown {
    if (typeof value === 'string') return this.maskString(value);
    if (value === null || typeof value !== 'object') return value;
    if (depth >= MAX_DEPTH || walk.nodes >= MAX_NODES || walk.seen.has(value)) return value;
    if (ArrayBuffer.isView(value) || value instanceof Date || value instanceof Map || value instanceof Set) return value;
    walk.nodes++;
    walk.seen.add(value);
    try {
      if (Array.isArray(value)) return this.#walkArray(value, depth, walk);
      if (value instanceof Error) return this.#walkObject(pino.stdSerializers.err(value) as unknown as Record<string, unknown>, depth, walk, true);
      // toJSON decides what is printed (URL, custom classes): mask that instead.
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function' && !isPlainLike(value)) {
        const json: unknown = (toJSON as () => unknown).call(value);
        return this.#walk(json, depth, walk);
      }
      return this.#walkObject(value as Record<string, unknown>, depth, walk, false);
    } finally {
      walk.seen.delete(value);
    }
  }

  #walkArray(list: unknown[], depth: number, walk: Walk): unknown[] {
    let out: unknown[] | undefined;
    for (let i = 0; i < list.length; i++) {
      const item = list[i];
      let next = this.#walk(item, depth + 1, walk);
      // Flat header lists (rawHeaders, HeaderList): the value follows its name.
      const name = i > 0 ? list[i - 1] : undefined;
      if (typeof name === 'string' && typeof item === 'string' && this.#headers.has(name.toLowerCase())) next = REDACTED;
      if (next !== item) (out ??= list.slice())[i] = next;
    }
    return out ?? list;
  }

  #walkObject(obj: Record<string, unknown>, depth: number, walk: Walk, copied: boolean): Record<string, unknown> {
    let out: Record<string, unknown> | undefined = copied ? obj : undefined;
    for (const key of Object.keys(obj)) {
      const item = obj[key];
      let next: unknown;
      if (this.#keys.has(key.toLowerCase())) next = item === undefined || item === null || item === '' ? item : REDACTED;
      else next = this.#walk(item, depth + 1, walk);
      if (next !== item) (out ??= { ...obj })[key] = next;
    }
    return out ?? obj;
  }
}
