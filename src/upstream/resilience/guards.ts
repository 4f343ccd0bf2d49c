import type { Logger } from 'pino';
import type { CircuitBreakerConfig, UpstreamLimitsConfig } from '../../config/schema/index.ts';
import { parseDuration } from '../../config/units.ts';
import type { AttemptOutcome, OutcomeObserver } from '../outcome.ts';
import type { Target, Upstream } from '../upstream.ts';
import { CircuitBreaker, type BreakerSettings, type BreakerState, type ForcedState } from './circuit-breaker.ts';
import { ConcurrencyLimiter, type LimitSettings } from './limiter.ts';
import { ResilienceMetrics } from './metrics.ts';
import { OverloadMonitor } from './overload.ts';

export type { RejectionReason } from './metrics.ts';

/**
 * The long-lived resilience state of one upstream (breakers, limiter), keyed by upstream name in
 * ResilienceRegistry so it survives config reloads; each snapshot's Upstream/Target objects get a
 * reference to it when compiled. Per process: every worker keeps its own.
 */
export class UpstreamGuard implements OutcomeObserver {
  breaker: CircuitBreaker | undefined;
  limiter: ConcurrencyLimiter | undefined;
  failureStatuses: ReadonlySet<number> | undefined;
  /** Target breakers by target URL, with the Target of the newest snapshot they steer. */
  readonly targets = new Map<string, TargetGuard>();
  /** Target breakers not closed: their routability is refreshed on the admission path. */
  watchedTargets = 0;

  constructor(
    readonly name: string,
    private readonly registry: ResilienceRegistry,
  ) {}

  /** A failure for the breaker: transport failures always, 5xx when listed (all 5xx by default). */
  isFailure(o: AttemptOutcome): boolean {
    if (o.kind === 'server-error') return this.failureStatuses === undefined || this.failureStatuses.has(o.status);
    return o.kind === 'connect-failure' || o.kind === 'timeout' || o.kind === 'reset';
  }

  /** Upstream-level aggregate of every target's outcomes. */
  onOutcome(o: AttemptOutcome): void {
    if (o.kind === 'cancelled') return;
    this.breaker?.record(this.isFailure(o), o.durationMs);
  }

  /** Target breakers not closed: open ones turn half-open lazily, half-open ones bound their probes. */
  refreshTargets(): void {
    for (const t of this.targets.values()) t.sync();
  }

  circuitState(): BreakerState | undefined {
    return this.breaker?.state;
  }

  /** Admin override of the upstream breaker or of one target's. */
  force(state: ForcedState, targetUrl?: string): boolean {
    if (targetUrl === undefined) {
      if (this.breaker === undefined) return false;
      this.breaker.force(state);
      return true;
    }
    const t = this.targets.get(targetUrl);
    if (t === undefined) return false;
    t.breaker.force(state);
    t.sync();
    return true;
  }

  transition(target: string, from: BreakerState, to: BreakerState, reason: string): void {
    this.registry.transition(this.name, target, from, to, reason);
  }
}

export class TargetGuard implements OutcomeObserver {
  target: Target | undefined;
  /** Not closed: refreshed on the admission path (open turns half-open lazily). */
  #watched = false;
  #routable = true;

  constructor(
    readonly url: string,
    readonly breaker: CircuitBreaker,
    private readonly upstream: UpstreamGuard,
  ) {}

  onOutcome(o: AttemptOutcome): void {
    // A cancelled attempt teaches nothing but may free a half-open probe place.
    if (o.kind !== 'cancelled') this.breaker.record(this.upstream.isFailure(o), o.durationMs);
    this.sync();
  }

  /**
   * Put the breaker state into the target's routability: open → balancers skip it; half-open →
   * routable while fewer than `halfOpenProbes` requests are in flight on it (the target's own
   * in-flight count, checked on each admission, so the probes are bounded without a hook in the
   * balancer); closed → routable.
   */
  sync(): void {
    const state = this.breaker.state;
    const watched = state !== 'closed';
    if (watched !== this.#watched) {
      this.#watched = watched;
      this.upstream.watchedTargets += watched ? 1 : -1;
    }
    const routable = state === 'closed' || (state === 'half-open' && (this.target?.inflight ?? 0) < this.breaker.halfOpenProbes);
    if (routable === this.#routable) return;
    this.#routable = routable;
    // Written on changes only, so a health override set in between is not undone.
    if (this.target !== undefined) setBreakerRoutable(this.target, routable);
  }

  /** A new snapshot's Target: starts unroutable when the breaker is open. */
  attach(target: Target): void {
    this.target = target;
    this.#routable = true;
    this.sync();
  }

  get isWatched(): boolean {
    return this.#watched;
  }
}

/**
 * The breaker's part of a target's routability. `available` is the one flag balancers read; the
 * target's health state combines it with checks, outlier ejection, overrides and panic mode (an open
 * breaker is never overruled by panic). Without a health state the breaker writes the flag itself.
 */
export function setBreakerRoutable(target: Target, routable: boolean): void {
  if (target.health !== undefined) target.health.setBreakerOpen(!routable);
  else target.available = routable;
}

export function breakerSettings(c: CircuitBreakerConfig): BreakerSettings {
  return {
    windowMs: parseDuration(c.window ?? '10s'),
    buckets: c.buckets ?? 10,
    minRequests: c.minRequests ?? 10,
    failureRate: (c.failureRate ?? 50) / 100,
    consecutiveFailures: c.consecutiveFailures ?? 0,
    slowCallMs: c.slowCall === undefined ? 0 : parseDuration(c.slowCall.duration),
    slowCallRate: c.slowCall === undefined ? 0 : c.slowCall.rate / 100,
    openMs: parseDuration(c.openDuration ?? '5s'),
    halfOpenProbes: c.halfOpenProbes ?? 1,
    successThreshold: c.successThreshold ?? 1,
  };
}

export function upstreamLimitSettings(c: UpstreamLimitsConfig): LimitSettings {
  return { max: c.maxInflight, maxQueue: c.maxPending ?? 0, queueTimeoutMs: parseDuration(c.queueTimeout ?? '1s') };
}


/** Per-gateway home of all resilience state that must outlive a config snapshot. */
export class ResilienceRegistry {
  readonly upstreams = new Map<string, UpstreamGuard>();
  readonly routeLimiters = new Map<string, ConcurrencyLimiter>();
  readonly overload: OverloadMonitor;
  readonly metrics: ResilienceMetrics;

  constructor(
    private readonly logger: Logger | undefined,
    readonly now: () => number = () => performance.now(),
  ) {
    this.metrics = new ResilienceMetrics(this);
    this.overload = new OverloadMonitor((overloaded, r) => {
      const fields = { lagMs: Math.round(r.lagMs), heapPercent: Math.round(r.heapFraction * 100) };
      if (overloaded) this.logger?.warn(fields, 'overloaded: shedding low-priority traffic');
      else this.logger?.info(fields, 'overload cleared');
    });
  }

  /** Logged once per state change (never per request) and counted. */
  transition(upstream: string, target: string, from: BreakerState, to: BreakerState, reason: string): void {
    this.metrics.transitions.inc({ upstream, target, to });
    const fields = { upstream, ...(target === '' ? {} : { target }), from, to, reason };
    if (to === 'open') this.logger?.warn(fields, 'circuit opened');
    else this.logger?.info(fields, `circuit ${to}`);
  }

  /** Attach the upstream's long-lived guard to a freshly compiled Upstream (and its Targets). */
  bind(upstream: Upstream, breaker: CircuitBreakerConfig | undefined, limits: UpstreamLimitsConfig | undefined): UpstreamGuard | undefined {
    if (breaker === undefined && limits === undefined) {
      this.upstreams.delete(upstream.name);
      return undefined;
    }
    let guard = this.upstreams.get(upstream.name);
    if (guard === undefined) {
      guard = new UpstreamGuard(upstream.name, this);
      this.upstreams.set(upstream.name, guard);
    }
    const g = guard;
    if (limits === undefined) g.limiter = undefined;
    else if (g.limiter === undefined) g.limiter = new ConcurrencyLimiter(upstreamLimitSettings(limits));
    else g.limiter.reconfigure(upstreamLimitSettings(limits));
    if (breaker === undefined) {
      g.breaker = undefined;
      g.targets.clear();
      g.watchedTargets = 0;
      return g;
    }
    g.failureStatuses = breaker.failureStatuses === undefined ? undefined : new Set(breaker.failureStatuses);
    const settings = breakerSettings(breaker);
    if (g.breaker === undefined || !g.breaker.reconfigure(settings)) {
      g.breaker = new CircuitBreaker(settings, this.now, (from, to, reason) => g.transition('', from, to, reason));
    }
    const live = new Set<string>();
    if (breaker.perTarget !== false) {
      for (const target of upstream.targets) {
        live.add(target.id);
        let t = g.targets.get(target.id);
        if (t === undefined || !t.breaker.reconfigure(settings)) {
          const url = target.id;
          t = new TargetGuard(url, new CircuitBreaker(settings, this.now, (from, to, reason) => g.transition(url, from, to, reason)), g);
          g.targets.set(url, t);
        }
        t.attach(target);
        target.observers.push(t);
      }
    }
    for (const url of [...g.targets.keys()]) if (!live.has(url)) g.targets.delete(url);
    g.watchedTargets = [...g.targets.values()].filter((t) => t.isWatched).length;
    // The upstream aggregate hears every target (one observer shared by all of them).
    for (const target of upstream.targets) target.observers.push(g);
    return g;
  }

  routeLimiter(route: string, settings: LimitSettings | undefined): ConcurrencyLimiter | undefined {
    if (settings === undefined) {
      this.routeLimiters.delete(route);
      return undefined;
    }
    let limiter = this.routeLimiters.get(route);
    if (limiter === undefined) this.routeLimiters.set(route, (limiter = new ConcurrencyLimiter(settings)));
    else limiter.reconfigure(settings);
    return limiter;
  }

  /** Forget upstreams and routes the applied config no longer has (their metrics go too). */
  retain(upstreams: Iterable<string>, routes: Iterable<string>): void {
    const u = new Set(upstreams);
    const r = new Set(routes);
    for (const name of [...this.upstreams.keys()]) if (!u.has(name)) this.upstreams.delete(name);
    for (const name of [...this.routeLimiters.keys()]) if (!r.has(name)) this.routeLimiters.delete(name);
  }

  close(): void {
    this.overload.stop();
  }
}
