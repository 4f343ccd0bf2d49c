/**
 * One host bucket: a find-my-way radix tree holding every path of the bucket's routes.
 *
 * All paths go into a single tree (under a carrier method); the request method, header and query
 * predicates are checked by a custom find-my-way constraint at the tree node the path reaches. When
 * no route at that node accepts the request, find-my-way backtracks to the next, less specific node
 * (a param, then a wildcard), exactly as it does for paths. So `GET /users/me` reaches `/users/:id`
 * when `/users/me` only has a POST route or a predicate that fails, and routes for many methods
 * share one tree instead of one tree per method.
 */
import FindMyWay from 'find-my-way';
import { parsePattern } from './paths.ts';
import { allHold, type Predicate } from './predicates.ts';
import type { RouteRequest, RouteResult } from './types.ts';

type Router = FindMyWay.Instance<FindMyWay.HTTPVersion.V1>;
type Params = Record<string, string>;

const CARRIER = 'GET';
const CONSTRAINT = 'sluice';
const NO_SEARCH_PARAMS = Object.freeze({});
const noop = (): void => undefined;

/** One route registered at one path of the tree. */
export interface Candidate<V> {
  value: V;
  name: string;
  index: number;
  priority: number;
  predicates: readonly Predicate[];
  /** null: any method. */
  methods: ReadonlySet<string> | null;
  /** Reached by the optional-param or wildcard-prefix rule: ranks after literal declarations. */
  derived: boolean;
  /** This registration's parameter names, by position. */
  names: readonly string[];
  /** The tree node's parameter names (find-my-way's), read by position into `names`. */
  nodeNames: readonly string[];
}

/** Per-request scratch handed to the constraint; one per table, reused (matching is synchronous). */
export class MatchState {
  request: RouteRequest | null = null;
  hit: Candidate<unknown> | null = null;
  /** Set to collect the methods that would be allowed instead of matching. */
  allow: Set<string> | null = null;
  /** The `derivedConstraints` argument of find-my-way's find(). */
  readonly derived: Record<string, MatchState> = { [CONSTRAINT]: this };
}

function compareCandidates(a: Candidate<unknown>, b: Candidate<unknown>): number {
  return Number(a.derived) - Number(b.derived) || b.priority - a.priority
    || b.predicates.length - a.predicates.length || a.index - b.index;
}

function acceptsMethod(candidate: Candidate<unknown>, method: string): boolean {
  const methods = candidate.methods;
  return methods === null || methods.has(method) || (method === 'HEAD' && methods.has('GET'));
}

/** The routes sharing one tree node, pre-sorted and pre-split by method. */
class Group<V> {
  readonly candidates: Candidate<V>[] = [];
  private readonly byMethod = new Map<string, Candidate<V>[]>();
  private anyMethod: Candidate<V>[] = [];

  constructor(readonly path: string) {}

  add(candidate: Candidate<V>): void {
    const twin = this.candidates.findIndex((c) => c.index === candidate.index);
    if (twin === -1) this.candidates.push(candidate);
    else if (compareCandidates(candidate, this.candidates[twin]!) < 0) this.candidates[twin] = candidate;
  }

  finalize(nodeNames: readonly string[]): void {
    this.candidates.sort(compareCandidates);
    const methods = new Set<string>();
    for (const candidate of this.candidates) {
      candidate.nodeNames = nodeNames;
      for (const method of candidate.methods ?? []) methods.add(method);
    }
    if (methods.has('GET')) methods.add('HEAD');
    for (const method of methods) this.byMethod.set(method, this.candidates.filter((c) => acceptsMethod(c, method)));
    this.anyMethod = this.candidates.filter((c) => c.methods === null);
  }

  /** Match mode: record the first candidate that accepts the request. Collect mode: never match. */
  select(state: MatchState): boolean {
    const request = state.request!;
    if (state.allow !== null) {
      for (const c of this.candidates) {
        if (c.methods !== null && allHold(c.predicates, request)) for (const m of c.methods) state.allow.add(m);
      }
      return false;
    }
    const list = this.byMethod.get(request.method) ?? this.anyMethod;
    for (let i = 0; i < list.length; i++) {
      if (allHold(list[i]!.predicates, request)) {
        state.hit = list[i]!;
        return true;
      }
    }
    return false;
  }
}

/**
 * find-my-way constraint store of one tree node: maps the node's group id to its handler bit at
 * build time, and at match time returns the bit when the group accepts the request.
 */
class GroupStore {
  private readonly ids: number[] = [];
  private readonly masks: number[] = [];

  constructor(private readonly groups: readonly Group<unknown>[]) {}

  get(value: number | MatchState): number | null {
    if (typeof value === 'number') {
      const at = this.ids.indexOf(value);
      return at === -1 ? null : this.masks[at]!;
    }
    for (let i = 0; i < this.ids.length; i++) {
      if (this.groups[this.ids[i]!]!.select(value)) return this.masks[i]!;
    }
    return 0;
  }

  set(id: number, mask: number): void {
    const at = this.ids.indexOf(id);
    if (at === -1) {
      this.ids.push(id);
      this.masks.push(mask);
    } else this.masks[at] = mask;
  }
}

/**
 * A plain object under the candidate's own names: routes sharing a node may name the params
 * differently, and find-my-way hands out null-prototype objects. '__proto__' is refused at compile
 * time, so plain assignment is safe.
 */
function paramsFor(candidate: Candidate<unknown>, raw: Params): Params {
  const params: Params = {};
  const names = candidate.names;
  for (let i = 0; i < names.length; i++) {
    const source = candidate.nodeNames[i];
    params[names[i]!] = source === undefined ? '' : raw[source] ?? '';
  }
  return params;
}

export interface BucketOptions {
  /** Generate JavaScript for the tree (find-my-way compile mode): faster lookups, more memory. */
  compile: boolean;
}

export class Bucket<V> {
  private readonly groups: Group<V>[] = [];
  private readonly byKey = new Map<string, Group<V>>();
  private router: Router | null = null;
  registrations = 0;

  add(path: string, candidate: Candidate<V>): void {
    if (candidate.names.includes('__proto__')) throw new Error(`route "${candidate.name}": parameter name "__proto__" is not allowed`);
    const key = parsePattern(path).key;
    let group = this.byKey.get(key);
    if (group === undefined) {
      group = new Group<V>(path);
      this.byKey.set(key, group);
      this.groups.push(group);
    }
    group.add(candidate);
    this.registrations++;
  }

  /** Registers every group on a fresh tree; called once, after all `add`s. */
  finalize(options: BucketOptions): void {
    const groups = this.groups as Group<unknown>[];
    const strategy = { name: CONSTRAINT, storage: () => new GroupStore(groups), deriveConstraint: noop, mustMatchWhenDerived: false };
    const router = FindMyWay({
      constraints: { [CONSTRAINT]: strategy as unknown as FindMyWay.ConstraintStrategy<FindMyWay.HTTPVersion.V1> },
      querystringParser: () => NO_SEARCH_PARAMS, // the table never uses find-my-way's query parsing
      maxParamLength: 8192, // the default 100 would turn long ids and tokens into 404s
    });
    groups.forEach((group, id) => {
      try {
        router.on(CARRIER, group.path, { constraints: { [CONSTRAINT]: id } }, noop, null);
      } catch (error) {
        throw new Error(`route "${group.candidates[0]!.name}": invalid path "${group.path}": ${(error as Error).message}`);
      }
      // find-my-way's own parameter names for the node, so renaming follows its parser, not ours
      const routes = (router as unknown as { routes: Array<{ params: string[] }> }).routes;
      group.finalize(routes[routes.length - 1]!.params);
    });
    if (options.compile) router.compile();
    this.router = router;
  }

  match(path: string, state: MatchState): RouteResult<V> | null {
    const found = this.router!.find(CARRIER, path, state.derived);
    if (found === null) return null;
    const hit = state.hit as Candidate<V>;
    return { kind: 'match', value: hit.value, params: paramsFor(hit, found.params as Params) };
  }

  /** Adds to `state.allow` the methods of routes whose path and predicates hold, on every matching node. */
  collectAllowed(path: string, state: MatchState): void {
    this.router!.find(CARRIER, path, state.derived);
  }
}
