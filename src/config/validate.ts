import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { PluginDefinition } from '../plugins/types.ts';
import { checkerFor, pointer, schemaIssues, suggest, type ConfigIssue } from './issues.ts';
import { ConfigSchema, RouteSchema, type RouteConfig, type SluiceConfig } from './schema/index.ts';
import { healthCheckIssues } from './health-checks.ts';
import { loggingIssues } from './logging-checks.ts';
import { tlsShapeIssues } from './tls-checks.ts';
import { parseDuration } from './units.ts';
import { pluginMapsOf } from './secrets.ts';

export type { ConfigIssue } from './issues.ts';

export interface ValidateOptions {
  plugins: ReadonlyMap<string, PluginDefinition>;
  /** Router-specific checks (path syntax, regexes) on a schema-valid route; paths relative to the route. */
  routeChecks?: (route: RouteConfig, index: number) => ConfigIssue[];
}

export type ValidateResult = { ok: true; config: SluiceConfig } | { ok: false; errors: ConfigIssue[] };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const HASH_ALGORITHMS = ['ip-hash', 'consistent-hash'];

/**
 * Value.Default leaves absent optional objects absent, so `config.admin?.port` would still need a
 * fallback. Create each absent object whose own defaults make it valid, so later code can rely on them.
 */
export function applyDefaults<T>(schema: TSchema, value: T): T {
  const result = Value.Default(schema, value) as T;
  fillObjects(schema, result);
  return result;
}

// Per object schema: what an absent instance defaults to, or null when it would stay absent.
const defaultObjects = new WeakMap<TSchema, Obj | null>();

function defaultObject(schema: TSchema): Obj | null {
  let candidate = defaultObjects.get(schema);
  if (candidate === undefined) {
    const value = Value.Default(schema, {});
    fillObjects(schema, value);
    candidate = isObj(value) && Object.keys(value).length > 0 && checkerFor(schema).Check(value) ? value : null;
    defaultObjects.set(schema, candidate);
  }
  return candidate === null ? null : structuredClone(candidate);
}

function fillObjects(schema: TSchema, value: unknown): void {
  if (Array.isArray(value) && schema.items !== undefined) value.forEach((v) => fillObjects(schema.items as TSchema, v));
  if (!isObj(value) || schema.type !== 'object' || !isObj(schema.properties)) return;
  for (const [key, prop] of Object.entries(schema.properties as Record<string, TSchema>)) {
    if (value[key] !== undefined || prop.type !== 'object' || !isObj(prop.properties)) fillObjects(prop, value[key]);
    else {
      const candidate = defaultObject(prop);
      if (candidate !== null) value[key] = candidate;
    }
  }
}

/** Position of a path in the document (key order as written; absent keys after present ones). */
function orderKey(doc: unknown, path: string): number[] {
  const key: number[] = [];
  let node = doc;
  for (const raw of path.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const keys = isObj(node) ? Object.keys(node) : Array.isArray(node) ? null : [];
    const at = keys === null ? Number(seg) : keys.indexOf(seg);
    key.push(at < 0 || Number.isNaN(at) ? (keys?.length ?? 0) : at);
    node = isObj(node) || Array.isArray(node) ? (node as Obj)[seg] : undefined;
  }
  return key;
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function sortIssues(doc: unknown, issues: ConfigIssue[]): ConfigIssue[] {
  const keyed = issues.map((issue) => ({ issue, key: orderKey(doc, issue.path) }));
  return keyed.sort((a, b) => compareKeys(a.key, b.key)).map((k) => k.issue); // stable: ties keep order
}

/** Names must be unique per kind; returns the set of names for reference checks. */
function uniqueNames(items: unknown, base: string, kind: string, issues: ConfigIssue[]): Set<string> {
  const first = new Map<string, number>();
  list(items).forEach((item, i) => {
    const name = isObj(item) ? item.name : undefined;
    if (typeof name !== 'string') return;
    const at = first.get(name);
    if (at === undefined) first.set(name, i);
    else issues.push({ path: `${base}/${i}/name`, message: `duplicate ${kind} name "${name}" (first at ${base}/${at})` });
  });
  return new Set(first.keys());
}

function checkListeners(listeners: unknown, issues: ConfigIssue[]): void {
  const seen = new Map<string, number>();
  list(listeners).forEach((l, i) => {
    if (!isObj(l)) return;
    checkListenerTimeouts(l.timeouts, `/listeners/${i}/timeouts`, issues);
    if (typeof l.port !== 'number' || l.port === 0) return; // port 0 is ephemeral: never clashes
    const address = `${String(l.host ?? '0.0.0.0')}:${l.port}`;
    const at = seen.get(address);
    if (at === undefined) seen.set(address, i);
    else issues.push({ path: `/listeners/${i}/port`, message: `address ${address} is already used by /listeners/${at}` });
  });
}

function durationOr(value: unknown, fallback: string): number | undefined {
  try {
    return parseDuration(typeof value === 'string' || typeof value === 'number' ? value : fallback);
  } catch {
    return undefined; // the schema reports the malformed value itself
  }
}

/** node:http refuses to start with a request deadline shorter than the head deadline (0 = none). */
function checkListenerTimeouts(timeouts: unknown, base: string, issues: ConfigIssue[]): void {
  const t = isObj(timeouts) ? timeouts : {};
  const headers = durationOr(t.headers, '20s');
  const request = durationOr(t.request, '5m');
  if (headers === undefined || request === undefined || request === 0 || request >= headers) return;
  issues.push({ path: `${base}/request`, message: `must be 0 (no limit) or at least timeouts.headers (${headers} ms), got ${request} ms` });
}

function targetUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `invalid URL "${url}"`;
  }
  if (parsed.username !== '' || parsed.password !== '') return 'target URL must not contain credentials';
  if (url.includes('?')) return 'target URL must not contain a query string';
  if (url.includes('#')) return 'target URL must not contain a fragment';
  return undefined;
}

function checkUpstream(upstream: unknown, base: string, issues: ConfigIssue[]): void {
  if (!isObj(upstream)) return;
  issues.push(...healthCheckIssues(upstream, base));
  const urls = new Map<string, number>();
  list(upstream.targets).forEach((t, j) => {
    if (!isObj(t) || typeof t.url !== 'string') return;
    const problem = targetUrlProblem(t.url);
    if (problem !== undefined) issues.push({ path: `${base}/targets/${j}/url`, message: problem });
    else if (upstream.protocol === 'http1' && t.url.startsWith('h2c://')) {
      issues.push({ path: `${base}/targets/${j}/url`, message: 'h2c:// is HTTP/2 cleartext but the upstream\'s protocol is "http1"; use http:// or protocol "http2"' });
    } else if (urls.has(t.url)) issues.push({ path: `${base}/targets/${j}/url`, message: `duplicate target "${t.url}" (first at ${base}/targets/${urls.get(t.url)})` });
    else urls.set(t.url, j);
  });
  const balancer = upstream.balancer;
  if (!isObj(balancer) || !isObj(balancer.hashOn)) return;
  const { source, name } = balancer.hashOn;
  if (typeof balancer.algorithm === 'string' && !HASH_ALGORITHMS.includes(balancer.algorithm)) {
    issues.push({ path: `${base}/balancer/hashOn`, message: `hashOn is only used by the ip-hash and consistent-hash algorithms, not "${balancer.algorithm}"` });
  } else if ((source === 'header' || source === 'cookie' || source === 'query') && name === undefined) {
    issues.push({ path: `${base}/balancer/hashOn/name`, message: `missing required property "name" (needed when source is "${source}")` });
  }
}

function checkRoute(route: unknown, base: string, upstreams: Set<string>, listeners: Set<string>, issues: ConfigIssue[]): void {
  if (!isObj(route)) return;
  const hasOne = route.upstream !== undefined;
  const hasMany = route.upstreams !== undefined;
  if (hasOne && hasMany) issues.push({ path: base, message: 'route has both "upstream" and "upstreams"; use one' });
  if (!hasOne && !hasMany) issues.push({ path: base, message: 'route needs "upstream" or "upstreams"' });
  if (typeof route.upstream === 'string' && !upstreams.has(route.upstream)) {
    issues.push({ path: `${base}/upstream`, message: `unknown upstream "${route.upstream}"${suggest(route.upstream, upstreams)}` });
  }
  const weighted = list(route.upstreams).filter(isObj);
  weighted.forEach((u, j) => {
    if (typeof u.name === 'string' && !upstreams.has(u.name)) {
      issues.push({ path: `${base}/upstreams/${j}/name`, message: `unknown upstream "${u.name}"${suggest(u.name, upstreams)}` });
    }
  });
  if (weighted.length > 0 && weighted.every((u) => u.weight === 0)) {
    issues.push({ path: `${base}/upstreams`, message: 'at least one upstream needs a weight above 0' });
  }
  list(route.listeners).forEach((name, j) => {
    if (typeof name === 'string' && !listeners.has(name)) {
      issues.push({ path: `${base}/listeners/${j}`, message: `unknown listener "${name}"${suggest(name, listeners)}` });
    }
  });
  checkRetryBackoff(route.retry, `${base}/retry/backoff`, issues);
}

/** A backoff cap below its base would silently mean "no growth": say so. */
function checkRetryBackoff(retry: unknown, base: string, issues: ConfigIssue[]): void {
  const backoff = isObj(retry) && isObj(retry.backoff) ? retry.backoff : undefined;
  if (backoff === undefined) return;
  const first = durationOr(backoff.base, '25ms');
  const max = durationOr(backoff.max, '250ms');
  if (first === undefined || max === undefined || max >= first) return;
  issues.push({ path: `${base}/max`, message: `must be at least backoff.base (${first} ms), got ${max} ms` });
}

/** Validates every plugin config against its plugin's schema and stores it with defaults applied. */
function checkPlugins(config: unknown, plugins: ReadonlyMap<string, PluginDefinition>, issues: ConfigIssue[]): void {
  for (const { path, map } of pluginMapsOf(config)) {
    for (const [name, value] of Object.entries(map)) {
      const definition = plugins.get(name);
      if (definition === undefined) {
        issues.push({ path: pointer(path, name), message: `unknown plugin "${name}"${suggest(name, plugins.keys())}` });
        continue;
      }
      // `false` switches a globally enabled plugin off for this route or consumer.
      if (value === false) continue;
      // YAML `cors:` with nothing after it means "defaults".
      const defaulted = applyDefaults(definition.schema, value === null || value === undefined ? {} : value);
      map[name] = defaulted;
      issues.push(...schemaIssues(definition.schema, defaulted, pointer(path, name)));
    }
  }
}

function checkRoutesHook(config: Obj, hook: ValidateOptions['routeChecks'], issues: ConfigIssue[]): void {
  if (hook === undefined) return;
  list(config.routes).forEach((route, i) => {
    if (!checkerFor(RouteSchema).Check(route)) return; // only schema-valid routes are safe to hand over
    const base = `/routes/${i}`;
    try {
      for (const issue of hook(route as RouteConfig, i)) {
        const rel = issue.path === '' || issue.path.startsWith('/') ? issue.path : `/${issue.path}`;
        issues.push({ path: base + rel, message: issue.message });
      }
    } catch (err) {
      issues.push({ path: base, message: `route check failed: ${(err as Error).message}` });
    }
  });
}

/** Cross-references and rules the schema cannot express; reads the config defensively. */
function semanticIssues(config: Obj, options: ValidateOptions): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const listeners = uniqueNames(config.listeners, '/listeners', 'listener', issues);
  const upstreams = uniqueNames(config.upstreams, '/upstreams', 'upstream', issues);
  uniqueNames(config.routes, '/routes', 'route', issues);
  uniqueNames(config.consumers, '/consumers', 'consumer', issues);
  checkListeners(config.listeners, issues);
  issues.push(...tlsShapeIssues(config));
  list(config.upstreams).forEach((u, i) => checkUpstream(u, `/upstreams/${i}`, issues));
  list(config.routes).forEach((r, i) => checkRoute(r, `/routes/${i}`, upstreams, listeners, issues));
  checkPlugins(config, options.plugins, issues);
  checkRoutesHook(config, options.routeChecks, issues);
  issues.push(...loggingIssues(config));
  return issues;
}

/**
 * Validates a parsed config: schema (defaults applied first), then cross-references, plugin configs
 * and route checks. Reports every issue, in document order; on success the config has all defaults.
 */
export function validateConfig(raw: unknown, options: ValidateOptions): ValidateResult {
  if (!isObj(raw)) {
    const got = raw === null || raw === undefined ? 'the file is empty' : `got ${Array.isArray(raw) ? 'a list' : JSON.stringify(raw)}`;
    return { ok: false, errors: [{ path: '', message: `the configuration must be a mapping with at least "listeners" (${got})` }] };
  }
  const config = applyDefaults(ConfigSchema, Value.Clone(raw));
  const issues = schemaIssues(ConfigSchema, config);
  issues.push(...semanticIssues(config, options));
  if (issues.length > 0) return { ok: false, errors: sortIssues(raw, dedupe(issues)) };
  return { ok: true, config: config as SluiceConfig };
}

/** The schema and a semantic rule can flag the same spot with the same words; say it once. */
function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => !seen.has(`${i.path}\0${i.message}`) && seen.add(`${i.path}\0${i.message}`) !== undefined);
}
