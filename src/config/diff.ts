/**
 * A structural diff of two config documents, written for people: named things (listeners, routes,
 * upstreams, consumers, weighted upstreams) are matched by `name` and targets by `url`, so reordering
 * them is not a change and a path reads `/routes[users]/plugins/cors/origins` instead of `/routes/3/...`.
 */
export interface DiffEntry {
  op: 'add' | 'remove' | 'change';
  /** JSON-pointer-like; array items matched by key appear as `[key]`, others by index. */
  path: string;
  from?: unknown;
  to?: unknown;
}

type Obj = Record<string, unknown>;

const IDENTITY_KEYS = ['name', 'url'] as const;
/** Longer arrays/values are shown as `[…]` / `{…}` so a diff line stays one readable line. */
const INLINE_LIMIT = 80;

function isObject(value: unknown): value is Obj {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isScalar(value: unknown): boolean {
  return value === null || typeof value !== 'object';
}

/** Escape per JSON Pointer so a key holding '/' cannot be mistaken for two segments. */
function segment(key: string): string {
  return `/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

/** The identity key shared by every item of both arrays (unique within each), if there is one. */
function identityKey(a: unknown[], b: unknown[]): string | undefined {
  return IDENTITY_KEYS.find((key) => [a, b].every((list) => {
    const seen = new Set<string>();
    for (const item of list) {
      const id = isObject(item) ? item[key] : undefined;
      if (typeof id !== 'string' || seen.has(id)) return false;
      seen.add(id);
    }
    return true;
  }));
}

/**
 * Union of two key sequences in document order: `to`'s order, with keys only in `from` kept at the
 * place they had there (so a removed route shows between its old neighbours).
 */
function mergeOrder(from: string[], to: string[]): string[] {
  const inTo = new Set(to);
  const out = new Set<string>();
  let next = 0;
  for (const key of from) {
    if (!inTo.has(key)) {
      out.add(key);
      continue;
    }
    if (out.has(key)) continue;
    while (next < to.length) {
      const k = to[next++]!;
      out.add(k);
      if (k === key) break;
    }
  }
  for (; next < to.length; next++) out.add(to[next]!);
  return [...out];
}

function diffKeyed(path: string, from: Map<string, unknown>, to: Map<string, unknown>, wrap: (key: string) => string, out: DiffEntry[]): void {
  for (const key of mergeOrder([...from.keys()], [...to.keys()])) {
    const at = path + wrap(key);
    if (!to.has(key)) out.push({ op: 'remove', path: at, from: from.get(key) });
    else if (!from.has(key)) out.push({ op: 'add', path: at, to: to.get(key) });
    else walk(at, from.get(key), to.get(key), out);
  }
}

function definedEntries(obj: Obj): Map<string, unknown> {
  return new Map(Object.entries(obj).filter(([, value]) => value !== undefined));
}

function diffArrays(path: string, from: unknown[], to: unknown[], out: DiffEntry[]): void {
  const key = identityKey(from, to);
  if (key !== undefined) {
    const byKey = (list: unknown[]) => new Map(list.map((item) => [(item as Obj)[key] as string, item]));
    diffKeyed(path, byKey(from), byKey(to), (id) => `[${id}]`, out);
    return;
  }
  // Lists of plain values (methods, paths, hosts) read best whole: ["GET"] → ["GET","POST"].
  if ([...from, ...to].every(isScalar)) {
    if (from.length !== to.length || from.some((item, i) => item !== to[i])) out.push({ op: 'change', path, from, to });
    return;
  }
  const common = Math.min(from.length, to.length);
  for (let i = 0; i < common; i++) walk(`${path}/${i}`, from[i], to[i], out);
  for (let i = common; i < from.length; i++) out.push({ op: 'remove', path: `${path}/${i}`, from: from[i] });
  for (let i = common; i < to.length; i++) out.push({ op: 'add', path: `${path}/${i}`, to: to[i] });
}

function walk(path: string, from: unknown, to: unknown, out: DiffEntry[]): void {
  if (Array.isArray(from) && Array.isArray(to)) diffArrays(path, from, to, out);
  else if (isObject(from) && isObject(to)) diffKeyed(path, definedEntries(from), definedEntries(to), segment, out);
  else if (from !== to && !(Number.isNaN(from) && Number.isNaN(to))) out.push({ op: 'change', path, from, to });
}

/** Every difference between two documents, in document order; empty when they are equal. */
export function diffConfigs(from: unknown, to: unknown): DiffEntry[] {
  const out: DiffEntry[] = [];
  walk('', from, to, out);
  return out;
}

function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (isObject(value)) return Object.keys(value).length === 0 ? '{}' : '{…}';
  const text = JSON.stringify(value);
  if (Array.isArray(value) && text.length > INLINE_LIMIT) return '[…]';
  return text;
}

/** One line per entry: `~ path: from → to`, `+ path: value`, `- path`. */
export function formatDiff(entries: DiffEntry[]): string {
  return entries
    .map((entry) => {
      const path = entry.path === '' ? '/' : entry.path;
      if (entry.op === 'remove') return `- ${path}`;
      if (entry.op === 'add') return `+ ${path}: ${show(entry.to)}`;
      return `~ ${path}: ${show(entry.from)} → ${show(entry.to)}`;
    })
    .join('\n');
}
