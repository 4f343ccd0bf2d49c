/**
 * Route table: compiled once per snapshot from the routes, then `match(request)` per request.
 *
 * Matching order
 * 1. Host buckets, tried in this order; the first bucket that yields a full match (path, method and
 *    predicates) wins, so a route without hosts still serves a host whose own routes do not match:
 *    a. exact hosts ("api.example.com"), case-insensitive, a trailing dot ignored;
 *    b. wildcard hosts ("*.example.com"): one or more labels before the suffix ("a.example.com",
 *       "a.b.example.com", not "example.com"), the most specific (longest) suffix first;
 *    c. routes without hosts (or with host "*").
 * 2. Within a bucket, the path on a radix tree (find-my-way): static segments beat parameters
 *    (`/users/:id`), which beat wildcards (`/static/*`). Paths are case-sensitive; a trailing slash
 *    is significant; "//" is not merged. `/static/*` also matches `/static` and `/static/` (prefix
 *    semantics; the wildcard param is then ''). `/posts/:id?` matches `/posts` too.
 * 3. At the most specific path node, the routes registered there are candidates, in this order:
 *    - routes that declare the path literally before routes reaching it through `/x/*` or `:id?`;
 *    - then higher `priority` first (default 0);
 *    - then more predicates (header + query) first;
 *    - then declaration order.
 *    The first candidate that accepts the method and whose predicates all hold wins. If none does,
 *    matching backtracks to the next less specific path node in the same bucket (e.g. from
 *    `/users/me` to `/users/:id`, then `/users/*`), then moves on to the next host bucket.
 * 4. Methods: a route without `methods` accepts any method token. A route for GET also serves HEAD.
 *    If nothing matches but, in the first bucket where the path exists, routes for other methods
 *    match the path and their predicates hold, the result is 405 with `allow`: those methods,
 *    sorted, with HEAD added when GET is there. Otherwise 404.
 * 5. Params: a plain object of decoded values (find-my-way decodes percent-encoding, %2F
 *    included); the wildcard value is under '*'.
 *
 * Cost: host lookup is one Map get per host label, path lookup walks the tree (cost grows with
 * path length, not route count); only routes at the same path node are scanned.
 */
import { Bucket, MatchState, type Candidate } from './bucket.ts';
import { expandPath, parsePattern } from './paths.ts';
import { compilePredicates } from './predicates.ts';
import type { RouteEntry, RouteRequest, RouteResult, RouteTable } from './types.ts';

export interface RouteTableOptions {
  /**
   * find-my-way compile mode (generated JavaScript per tree, about 2x faster lookups). 'auto'
   * (default) compiles when the whole table registers at most `compileLimit` (1000) paths: code
   * generation for thousands of routes takes seconds and megabytes, blocking a hot reload.
   */
  compile?: boolean | 'auto';
  compileLimit?: number;
}

const NOT_FOUND: RouteResult<never> = Object.freeze({ kind: 'not-found' });

type HostKey = { kind: 'exact' | 'wildcard'; key: string } | { kind: 'any' };

function hostKey(host: string): HostKey {
  let name = host.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name === '*') return { kind: 'any' };
  if (name.startsWith('*.')) return { kind: 'wildcard', key: name.slice(1) };
  return { kind: 'exact', key: name };
}

class CompiledRouteTable<V> implements RouteTable<V> {
  private readonly state = new MatchState();

  constructor(
    private readonly exact: ReadonlyMap<string, Bucket<V>>,
    private readonly wildcard: ReadonlyMap<string, Bucket<V>>,
    private readonly any: Bucket<V> | null,
    readonly size: number,
  ) {}

  match(request: RouteRequest): RouteResult<V> {
    const state = this.state;
    state.request = request;
    state.allow = null;
    let result = this.walk(request, state);
    if (result === null) {
      state.allow = new Set();
      result = this.walk(request, state) ?? NOT_FOUND;
    }
    state.request = null; // do not keep the request alive
    state.hit = null;
    state.allow = null;
    return result;
  }

  /** Tries the buckets for the request host in order; in collect mode returns the first 405. */
  private walk(request: RouteRequest, state: MatchState): RouteResult<V> | null {
    let host = request.host;
    if (host.charCodeAt(host.length - 1) === 46) host = host.slice(0, -1);
    const exact = this.exact.size === 0 ? undefined : this.exact.get(host);
    let result = exact === undefined ? null : this.visit(exact, request.path, state);
    if (result !== null || this.wildcard.size === 0) return result ?? this.visitAny(request.path, state);
    for (let dot = host.indexOf('.', 1); dot !== -1; dot = host.indexOf('.', dot + 1)) {
      const bucket = this.wildcard.get(host.slice(dot));
      if (bucket !== undefined && (result = this.visit(bucket, request.path, state)) !== null) return result;
    }
    return this.visitAny(request.path, state);
  }

  private visitAny(path: string, state: MatchState): RouteResult<V> | null {
    return this.any === null ? null : this.visit(this.any, path, state);
  }

  private visit(bucket: Bucket<V>, path: string, state: MatchState): RouteResult<V> | null {
    if (state.allow === null) return bucket.match(path, state);
    bucket.collectAllowed(path, state);
    if (state.allow.size === 0) return null;
    if (state.allow.has('GET')) state.allow.add('HEAD');
    return { kind: 'method-not-allowed', allow: [...state.allow].sort() };
  }
}

class TableBuilder<V> {
  readonly exact = new Map<string, Bucket<V>>();
  readonly wildcard = new Map<string, Bucket<V>>();
  any: Bucket<V> | null = null;

  bucketsFor(hosts: string[] | undefined): Set<Bucket<V>> {
    if (hosts === undefined || hosts.length === 0) return new Set([this.anyBucket()]);
    const buckets = new Set<Bucket<V>>();
    for (const host of hosts) {
      const key = hostKey(host);
      if (key.kind === 'any') buckets.add(this.anyBucket());
      else buckets.add(getOrCreate(key.kind === 'exact' ? this.exact : this.wildcard, key.key));
    }
    return buckets;
  }

  add(entry: RouteEntry<V>): void {
    const { config } = entry;
    const base = {
      value: entry.value,
      name: config.name,
      index: entry.index,
      priority: config.priority ?? 0,
      predicates: compilePredicates(config.match.headers, config.match.query),
      methods: config.match.methods === undefined ? null : new Set(config.match.methods),
      nodeNames: [],
    };
    const buckets = this.bucketsFor(config.match.hosts);
    for (const path of config.match.paths) {
      for (const variant of expandPath(path)) {
        const names = parsePattern(variant.path).names;
        if (variant.wildcardPrefix) names.push('*');
        for (const bucket of buckets) {
          const candidate: Candidate<V> = { ...base, derived: variant.derived, names };
          bucket.add(variant.path, candidate);
        }
      }
    }
  }

  private anyBucket(): Bucket<V> {
    return (this.any ??= new Bucket<V>());
  }
}

function getOrCreate<V>(map: Map<string, Bucket<V>>, key: string): Bucket<V> {
  let bucket = map.get(key);
  if (bucket === undefined) map.set(key, (bucket = new Bucket<V>()));
  return bucket;
}

/** Compiles the routes into an immutable table. Throws on a path find-my-way rejects. */
export function compileRouteTable<V>(entries: RouteEntry<V>[], options: RouteTableOptions = {}): RouteTable<V> {
  const builder = new TableBuilder<V>();
  for (const entry of entries) builder.add(entry);
  const buckets = [...builder.exact.values(), ...builder.wildcard.values(), ...(builder.any ? [builder.any] : [])];
  const registrations = buckets.reduce((sum, bucket) => sum + bucket.registrations, 0);
  const mode = options.compile ?? 'auto';
  const compile = mode === 'auto' ? registrations <= (options.compileLimit ?? 1000) : mode;
  for (const bucket of buckets) bucket.finalize({ compile });
  return Object.freeze(new CompiledRouteTable(builder.exact, builder.wildcard, builder.any, entries.length));
}
