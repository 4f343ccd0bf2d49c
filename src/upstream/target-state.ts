import type { UpstreamConfig } from '../config/schema/index.ts';
import type { AttemptOutcome, OutcomeObserver } from './outcome.ts';
import { countOutcome, ejectionMs, maxEjected, outlierPolicy, type OutlierPolicy } from './health/outlier.ts';
import type { HealthOverride } from './target-overlay.ts';
import type { Target } from './upstream.ts';

/** Result of active checks: `unknown` until the first check of a new target finished. */
export type ActiveHealth = 'healthy' | 'unhealthy' | 'unknown';

/** Why a target is (not) routable, as the admin API shows it; null = healthy, nothing special. */
export type HealthReason = 'override' | 'active' | 'outlier' | 'breaker' | 'panic' | null;

/**
 * Everything that decides whether one target takes new requests, kept across config reloads
 * (keyed by upstream name + target URL). The balancers read only `Target.available`: this state
 * writes it on every change (rare), so the hot path stays one boolean read.
 */
export class TargetState implements OutcomeObserver {
  override: HealthOverride | undefined;
  active: ActiveHealth = 'unknown';
  /** Outlier ejection: epoch ms it ends (0 = not ejected), and ejections in a row. */
  ejectedUntil = 0;
  ejections = 0;
  lastReadmitAt = 0;
  ejectionsTotal = 0;
  /** Set by circuit breakers (their own module): an open breaker takes the target out. */
  breakerOpen = false;
  routable = true;
  reason: HealthReason = null;
  readonly counters = { consecutive5xx: 0, consecutiveGateway: 0 };
  /** Active check figures, for metrics. */
  checksPassed = 0;
  checksFailed = 0;
  /** The Targets (this snapshot's, and a candidate's being built) whose `available` this state writes. */
  targets: Target[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly group: UpstreamHealth,
    readonly url: string,
  ) {}

  get ejected(): boolean {
    return this.ejectedUntil !== 0;
  }

  onOutcome(outcome: AttemptOutcome): void {
    const policy = this.group.outlier;
    if (!policy.enabled || this.ejected) return;
    if (countOutcome(this.counters, outcome, policy)) this.group.tryEject(this);
  }

  eject(now: number): void {
    const policy = this.group.outlier;
    // A target that stayed in rotation longer than the longest ejection starts again from the base time.
    if (now - this.lastReadmitAt > policy.maxEjectionMs) this.ejections = 0;
    this.ejections++;
    this.ejectionsTotal++;
    const ms = ejectionMs(policy, this.ejections);
    this.ejectedUntil = now + ms;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.readmit(), ms);
    this.#timer.unref();
    this.group.notify({ upstream: this.group.name, url: this.url, event: 'ejected', ejections: this.ejections, durationMs: ms });
  }

  readmit(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.ejectedUntil === 0) return;
    this.ejectedUntil = 0;
    this.lastReadmitAt = Date.now();
    this.counters.consecutive5xx = 0;
    this.counters.consecutiveGateway = 0;
    this.group.recompute();
    this.group.notify({ upstream: this.group.name, url: this.url, event: 'readmitted', ejections: this.ejections });
  }

  /** Circuit breakers: open takes the target out of rotation (panic does not bring it back). */
  setBreakerOpen(open: boolean): void {
    if (this.breakerOpen === open) return;
    this.breakerOpen = open;
    this.group.recompute();
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** One upstream's targets' states, its outlier policy and panic mode. */
/** Ejections and re-admissions, told once each (logged; never per request). */
export interface HealthEvent {
  upstream: string;
  url: string;
  event: 'ejected' | 'readmitted';
  ejections: number;
  durationMs?: number;
}

export class UpstreamHealth {
  readonly states = new Map<string, TargetState>();
  outlier: OutlierPolicy = outlierPolicy(undefined);
  /** Active checks are configured: a target is healthy only once a check passed. */
  checked = false;
  panicThreshold = 50;
  panic = false;

  constructor(
    readonly name: string,
    readonly notify: (event: HealthEvent) => void = () => undefined,
  ) {}

  configure(config: UpstreamConfig): void {
    this.outlier = outlierPolicy(config.outlierDetection);
    this.checked = config.healthCheck !== undefined;
    this.panicThreshold = config.panicThreshold ?? 50;
  }

  state(url: string): TargetState {
    let s = this.states.get(url);
    if (s === undefined) this.states.set(url, (s = new TargetState(this, url)));
    return s;
  }

  tryEject(state: TargetState, now = Date.now()): boolean {
    let ejected = 0;
    for (const s of this.states.values()) if (s.ejected) ejected++;
    if (ejected + 1 > maxEjected(this.outlier, this.states.size)) return false;
    state.eject(now);
    this.recompute();
    return true;
  }

  /** Work out every target's routability (on a state change, never per request) and write `available`. */
  recompute(): void {
    let eligible = 0;
    let healthy = 0;
    for (const s of this.states.values()) {
      if (s.override === 'down' || s.override === 'drained' || s.breakerOpen) continue;
      if (s.targets.length > 0 && s.targets[s.targets.length - 1]!.weight === 0) continue;
      eligible++;
      if (s.override === 'up' || this.#healthy(s)) healthy++;
    }
    this.panic = this.panicThreshold > 0 && eligible > 0 && healthy * 100 < this.panicThreshold * eligible;
    for (const s of this.states.values()) {
      if (s.override !== undefined) {
        s.routable = s.override === 'up';
        s.reason = 'override';
      } else if (s.breakerOpen) {
        s.routable = false;
        s.reason = 'breaker';
      } else if (this.#healthy(s)) {
        s.routable = true;
        s.reason = null;
      } else {
        s.routable = this.panic;
        s.reason = this.panic ? 'panic' : s.ejected ? 'outlier' : 'active';
      }
      for (const t of s.targets) t.available = s.routable;
    }
  }

  #healthy(s: TargetState): boolean {
    return !s.ejected && (!this.checked || s.active === 'healthy');
  }
}

export interface TargetHealthView {
  routable: boolean;
  reason: HealthReason;
  override: HealthOverride | null;
  active: ActiveHealth | null;
  ejected: boolean;
  ejectedUntil: string | null;
  ejections: number;
  panic: boolean;
}

/**
 * Health of every upstream's targets for one gateway, created once and kept across reloads: a
 * target present before and after a reload keeps its check results and ejections; a removed one
 * is forgotten (and its checks stop, see ActiveChecks).
 */
export class HealthRegistry {
  readonly upstreams = new Map<string, UpstreamHealth>();
  /** Told of ejections and re-admissions (the gateway logs them). */
  onEvent: (event: HealthEvent) => void = () => undefined;
  group(name: string): UpstreamHealth {
    let g = this.upstreams.get(name);
    if (g === undefined) this.upstreams.set(name, (g = new UpstreamHealth(name, (e) => this.onEvent(e))));
    return g;
  }

  /** While a snapshot is built: subscribe its targets to their states and set their availability. */
  bind(config: UpstreamConfig, targets: readonly Target[]): void {
    const group = this.group(config.name);
    group.configure(config);
    for (const t of targets) {
      const state = group.state(t.id);
      state.targets.push(t);
      t.health = state;
      t.observers.push(state);
    }
    group.recompute();
  }

  /** A snapshot is in force: forget removed upstreams and targets, keep only its Targets bound. */
  sync(upstreams: Iterable<{ name: string; targets: readonly Target[] }>): void {
    const seen = new Set<string>();
    for (const u of upstreams) {
      seen.add(u.name);
      const group = this.group(u.name);
      const urls = new Map(u.targets.map((t) => [t.id, t]));
      for (const [url, state] of group.states) {
        const target = urls.get(url);
        if (target === undefined) {
          state.dispose();
          group.states.delete(url);
        } else state.targets = [target];
      }
      group.recompute();
    }
    for (const [name, group] of this.upstreams) {
      if (seen.has(name)) continue;
      for (const s of group.states.values()) s.dispose();
      this.upstreams.delete(name);
    }
  }

  get(upstream: string, url: string): TargetState | undefined {
    return this.upstreams.get(upstream)?.states.get(url);
  }

  setOverride(upstream: string, url: string, override: HealthOverride | undefined): void {
    const s = this.get(upstream, url);
    if (s === undefined) return;
    s.override = override;
    s.group.recompute();
  }

  /** An active check result (here, or broadcast by the primary); unknown targets are ignored. */
  setActive(upstream: string, url: string, active: ActiveHealth): boolean {
    const s = this.get(upstream, url);
    if (s === undefined || s.active === active) return false;
    s.active = active;
    s.group.recompute();
    return true;
  }

  /** Every target's active result, keyed `${upstream} ${url}` (sent to a worker with its config). */
  activeStates(): Record<string, ActiveHealth> {
    const out: Record<string, ActiveHealth> = {};
    for (const g of this.upstreams.values()) for (const s of g.states.values()) out[`${g.name} ${s.url}`] = s.active;
    return out;
  }

  /** Apply a batch of active results keyed `${upstream} ${url}` (a worker, from the primary). */
  applyActive(states: Record<string, ActiveHealth>): void {
    for (const [key, active] of Object.entries(states)) {
      const space = key.indexOf(' ');
      this.setActive(key.slice(0, space), key.slice(space + 1), active);
    }
  }

  view(upstream: string, url: string): TargetHealthView | null {
    const s = this.get(upstream, url);
    if (s === undefined) return null;
    return {
      routable: s.routable,
      reason: s.reason,
      override: s.override ?? null,
      active: s.group.checked ? s.active : null,
      ejected: s.ejected,
      ejectedUntil: s.ejected ? new Date(s.ejectedUntil).toISOString() : null,
      ejections: s.ejections,
      panic: s.group.panic,
    };
  }

  close(): void {
    for (const g of this.upstreams.values()) for (const s of g.states.values()) s.dispose();
  }
}
