import type { BreakerState, CircuitBreaker } from '../upstream/resilience/circuit-breaker.ts';
import type { LimitSettings } from '../upstream/resilience/limiter.ts';
import type { Upstream } from '../upstream/upstream.ts';

/**
 * Circuit breakers and upstream limits across processes. Each worker keeps its own breakers and
 * limiters (they learn from that worker's traffic); the primary remembers the operator's forced
 * states, sends them to every worker, and sums what the workers report for the admin API.
 */

export type ForcedCircuit = 'open' | 'closed';

/** A breaker as the admin API shows it (one process's view). */
export interface CircuitView {
  state: BreakerState;
  forced: ForcedCircuit | null;
  retryAfterMs: number;
  window: { calls: number; failures: number; slowCalls: number };
}

/** Multi-process: the worst state over the workers, with how many workers are in each state. */
export interface ClusterCircuitView extends CircuitView {
  byWorker: Record<BreakerState, number>;
  /** Workers that reported this breaker. */
  workers: number;
}

export interface LimitsView extends LimitSettings {
  inflight: number;
  queued: number;
}

/** Multi-process: in-flight and queued summed over the workers; the settings apply to each worker. */
export interface ClusterLimitsView extends LimitsView {
  workers: number;
}

/** What one worker reports: breakers keyed by circuitKey(), limits by upstream name. */
export interface ResilienceReport {
  circuits: Array<[string, CircuitView]>;
  limits: Array<[string, LimitsView]>;
}

export interface ClusterResilience {
  circuits: Map<string, ClusterCircuitView>;
  limits: Map<string, ClusterLimitsView>;
}

/** `upstream` for the upstream's breaker, `upstream url` for a target's (upstream names have no spaces). */
export function circuitKey(upstream: string, target?: string): string {
  return target === undefined ? upstream : `${upstream} ${target}`;
}

export function circuitView(b: CircuitBreaker | undefined): CircuitView | null {
  if (b === undefined) return null;
  return { state: b.state, forced: b.forced ?? null, retryAfterMs: Math.ceil(b.retryAfterMs()), window: b.window() };
}

export function limitsView(upstream: Upstream): LimitsView | null {
  const limiter = upstream.resilience?.limiter;
  return limiter === undefined ? null : { inflight: limiter.inflight, queued: limiter.queued, ...limiter.settings };
}

/** This process's breakers and limits (what a worker answers the primary). */
export function localResilience(upstreams: Iterable<Upstream>): ResilienceReport {
  const report: ResilienceReport = { circuits: [], limits: [] };
  for (const upstream of upstreams) {
    const guard = upstream.resilience;
    if (guard === undefined) continue;
    const own = circuitView(guard.breaker);
    if (own !== null) report.circuits.push([circuitKey(upstream.name), own]);
    for (const [url, t] of guard.targets) report.circuits.push([circuitKey(upstream.name, url), circuitView(t.breaker)!]);
    const limits = limitsView(upstream);
    if (limits !== null) report.limits.push([upstream.name, limits]);
  }
  return report;
}

const SEVERITY: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * Every worker's report merged: per breaker the worst state (open > half-open > closed), the count
 * of workers in each state, the longest Retry-After and the summed window; `forced` is what the
 * operator set in the primary (the intent; byWorker shows where it is in force). Limits: in-flight
 * and queued summed.
 */
export function mergeResilience(reports: ResilienceReport[], forced: ReadonlyMap<string, ForcedCircuit>): ClusterResilience {
  const circuits = new Map<string, ClusterCircuitView>();
  const limits = new Map<string, ClusterLimitsView>();
  for (const report of reports) {
    for (const [key, v] of report.circuits) {
      let seen = circuits.get(key);
      if (seen === undefined) {
        seen = { state: v.state, forced: forced.get(key) ?? null, retryAfterMs: 0, window: { calls: 0, failures: 0, slowCalls: 0 }, byWorker: { open: 0, 'half-open': 0, closed: 0 }, workers: 0 };
        circuits.set(key, seen);
      }
      if (SEVERITY[v.state] > SEVERITY[seen.state]) seen.state = v.state;
      seen.byWorker[v.state]++;
      seen.workers++;
      seen.retryAfterMs = Math.max(seen.retryAfterMs, v.retryAfterMs);
      seen.window.calls += v.window.calls;
      seen.window.failures += v.window.failures;
      seen.window.slowCalls += v.window.slowCalls;
    }
    for (const [name, l] of report.limits) {
      const seen = limits.get(name);
      if (seen === undefined) limits.set(name, { ...l, workers: 1 });
      else {
        seen.inflight += l.inflight;
        seen.queued += l.queued;
        seen.workers++;
      }
    }
  }
  return { circuits, limits };
}

/**
 * Put the primary's forced states in force in this worker, for the config just applied: a listed
 * breaker is forced, an unlisted one that is forced returns to automatic operation; breakers
 * running automatically are left alone (forcing "auto" would reset their window).
 */
export function applyForcedCircuits(upstreams: Iterable<Upstream>, forced: Record<string, ForcedCircuit>): void {
  for (const upstream of upstreams) {
    const guard = upstream.resilience;
    if (guard === undefined) continue;
    const own = forced[circuitKey(upstream.name)];
    if (guard.breaker !== undefined && guard.breaker.forced !== own) guard.force(own);
    for (const [url, t] of guard.targets) {
      const want = forced[circuitKey(upstream.name, url)];
      if (t.breaker.forced !== want) guard.force(want, url);
    }
  }
}

interface DocumentUpstream {
  name?: unknown;
  targets?: Array<{ url?: unknown }>;
  circuitBreaker?: { perTarget?: boolean };
}

/** The breakers a config document has (by circuitKey): forced states of any other are forgotten. */
export function configuredCircuits(document: unknown): Set<string> {
  const keys = new Set<string>();
  const upstreams = (document as { upstreams?: unknown } | null)?.upstreams;
  if (!Array.isArray(upstreams)) return keys;
  for (const u of upstreams as DocumentUpstream[]) {
    if (typeof u?.name !== 'string' || u.circuitBreaker === undefined) continue;
    keys.add(circuitKey(u.name));
    if (u.circuitBreaker.perTarget === false || !Array.isArray(u.targets)) continue;
    for (const t of u.targets) {
      if (typeof t?.url !== 'string') continue;
      try {
        keys.add(circuitKey(u.name, new URL(t.url).href));
      } catch {
        // Validated already; a URL that does not parse has no breaker anyway.
      }
    }
  }
  return keys;
}
