import { GatewayError } from '../../errors/index.ts';
import type { FallbackConfig, PriorityClassConfig, RouteConfig } from '../../config/schema/index.ts';
import { PRIORITY_CLASSES } from '../../config/schema/resilience.ts';
import { parseDuration } from '../../config/units.ts';
import type { RequestContext } from '../../runtime/context.ts';
import { sendDirect, sendProblem } from '../../runtime/respond.ts';
import type { Upstream } from '../upstream.ts';
import type { UpstreamGuard, RejectionReason, ResilienceRegistry } from './guards.ts';
import type { ConcurrencyLimiter, LimitRejection, Waiter } from './limiter.ts';

/**
 * Admission of one request of a route, run once at the start of forward(): global overload
 * protection, the upstream's circuit breaker, then the route's and the upstream's concurrency
 * limits (each may queue by priority). Everything taken is given back once, on the response's
 * 'close'. Compiled per route; routes with nothing configured get no gate at all.
 */
export class AdmissionGate {
  readonly #classOf: (ctx: RequestContext) => number;

  constructor(
    private readonly routeName: string,
    private readonly registry: ResilienceRegistry,
    private readonly routeLimiter: ConcurrencyLimiter | undefined,
    priority: PriorityClassConfig | undefined,
    private readonly fallback: CompiledFallback | undefined,
  ) {
    this.#classOf = compilePriority(priority);
  }

  /** Admit the request, then `proceed` with the upstream chosen for it (now or once queued). */
  admit(ctx: RequestContext, pickUpstream: () => Upstream, proceed: (upstream: Upstream) => void): void {
    const level = this.#classOf(ctx);
    const registry = this.registry;
    const overload = registry.overload;
    if (overload.overloaded && level < overload.settings!.admitAtLeast) {
      return this.#reject(ctx, 'global', 'process', 'overload', new GatewayError('SLUICE_ERR_OVERLOADED', { detail: 'the gateway is overloaded: low-priority traffic is shed', expose: true }));
    }
    const upstream = pickUpstream();
    const guard = upstream.resilience;
    const ticket = new Ticket(guard, ctx.res);
    if (guard?.breaker !== undefined) {
      if (guard.watchedTargets > 0) guard.refreshTargets();
      const verdict = guard.breaker.tryAcquire();
      if (verdict === 'reject') {
        const seconds = Math.max(1, Math.ceil(guard.breaker.retryAfterMs() / 1000));
        const error = new GatewayError('SLUICE_ERR_CIRCUIT_OPEN', {
          // Upstream names are internal: logged, not sent to the client.
          detail: `the circuit of upstream "${upstream.name}" is open`,
          headers: { 'retry-after': String(seconds) },
        });
        return this.#reject(ctx, 'upstream', upstream.name, 'circuit-open', error);
      }
      if (verdict === 'probe') ticket.probe = guard.breaker.generation;
    }
    ctx.res.once('close', ticket.release);
    const route = this.routeLimiter;
    const upstreamLimiter = guard?.limiter;
    const afterRoute = (): void => {
      if (upstreamLimiter === undefined) return proceed(upstream);
      ticket.wait(
        upstreamLimiter,
        level,
        () => proceed(upstream),
        (why) => this.#limitRejected(ctx, 'upstream', upstream.name, why, 'SLUICE_ERR_UPSTREAM_OVERLOADED'),
        'upstream',
      );
    };
    if (route === undefined) return afterRoute();
    ticket.wait(route, level, afterRoute, (why) => this.#limitRejected(ctx, 'route', this.routeName, why, 'SLUICE_ERR_ROUTE_OVERLOADED'), 'route');
  }

  #limitRejected(ctx: RequestContext, scope: string, name: string, why: LimitRejection, code: 'SLUICE_ERR_UPSTREAM_OVERLOADED' | 'SLUICE_ERR_ROUTE_OVERLOADED'): void {
    const detail =
      why === 'queue-timeout' ? `no ${scope} concurrency slot freed in time` : why === 'shed' ? 'displaced by higher-priority traffic' : `${scope} concurrency limit reached`;
    this.#reject(ctx, scope, name, why, new GatewayError(code, { detail, expose: true }));
  }

  #reject(ctx: RequestContext, scope: string, name: string, reason: RejectionReason, error: GatewayError): void {
    this.registry.metrics.rejections.inc({ scope, name, reason });
    const fallback = this.fallback;
    if (fallback !== undefined && (reason === 'circuit-open' ? fallback.onCircuitOpen : fallback.onOverloaded)) {
      ctx.error = error;
      return sendDirect(ctx, fallback.response);
    }
    sendProblem(ctx, error);
  }
}

/** What one request holds; released exactly once when its response closes. */
class Ticket {
  /** Half-open period of the probe slot this request holds (-1: none). */
  probe = -1;
  route: ConcurrencyLimiter | undefined;
  upstream: ConcurrencyLimiter | undefined;
  #waiter: Waiter | undefined;
  #waitingOn: ConcurrencyLimiter | undefined;
  #released = false;

  constructor(
    private readonly guard: UpstreamGuard | undefined,
    private readonly res: RequestContext['res'],
  ) {}

  /** Take a slot of `limiter` (now or once queued), recording it as held for release. */
  wait(limiter: ConcurrencyLimiter, level: number, granted: () => void, rejected: (why: LimitRejection) => void, slot: 'route' | 'upstream'): void {
    const waiter = limiter.acquire(
      level,
      () => {
        this.#waiter = undefined;
        if (this.#released) return limiter.release();
        this[slot] = limiter;
        // Gone while queued (its 'close' is still to come and releases the slot).
        if (!this.res.destroyed) granted();
      },
      (why) => {
        this.#waiter = undefined;
        rejected(why);
      },
    );
    if (waiter !== undefined) {
      this.#waiter = waiter;
      this.#waitingOn = limiter;
    }
  }

  readonly release = (): void => {
    if (this.#released) return;
    this.#released = true;
    if (this.#waiter !== undefined) this.#waitingOn!.cancel(this.#waiter);
    this.#waiter = undefined;
    if (this.probe >= 0) this.guard?.breaker?.releaseProbe(this.probe);
    this.upstream?.release();
    this.route?.release();
  };
}

interface CompiledFallback {
  response: { status: number; headers?: Record<string, string>; body?: string };
  onCircuitOpen: boolean;
  onOverloaded: boolean;
}

function compileFallback(f: FallbackConfig | undefined): CompiledFallback | undefined {
  if (f === undefined) return undefined;
  const on = f.on ?? ['circuit-open'];
  return {
    response: { status: f.status ?? 200, ...(f.headers === undefined ? {} : { headers: f.headers }), ...(f.body === undefined ? {} : { body: f.body }) },
    onCircuitOpen: on.includes('circuit-open'),
    onOverloaded: on.includes('overloaded'),
  };
}

export function levelOf(name: string): number {
  return (PRIORITY_CLASSES as readonly string[]).indexOf(name);
}

const BY_NAME = new Map<unknown, number>(PRIORITY_CLASSES.map((c, i) => [c, i]));

/**
 * The request's level: a class a plugin put in `ctx.state.priorityClass` (e.g. from the
 * consumer) wins; then the route's header (lookup table built at compile time); then its default.
 */
function compilePriority(p: PriorityClassConfig | undefined): (ctx: RequestContext) => number {
  const fallback = levelOf(p?.default ?? 'normal');
  const header = p?.header?.toLowerCase();
  const table = new Map<string, number>();
  if (p?.values === undefined) PRIORITY_CLASSES.forEach((c, i) => table.set(c, i));
  else for (const [value, cls] of Object.entries(p.values)) table.set(value, levelOf(cls));
  return (ctx) => {
    const set = ctx.state.priorityClass;
    if (set !== undefined) return BY_NAME.get(set) ?? fallback;
    if (header === undefined) return fallback;
    const v = ctx.headers[header];
    return typeof v === 'string' ? (table.get(v) ?? fallback) : fallback;
  };
}

/** The route's gate, or undefined when no limit, breaker, fallback or global protection concerns it. */
export function compileAdmission(route: RouteConfig, upstreams: readonly Upstream[], registry: ResilienceRegistry | undefined, overloadOn: boolean): AdmissionGate | undefined {
  if (registry === undefined) return undefined;
  const limits = route.limits;
  const limiter = registry.routeLimiter(
    route.name,
    limits === undefined ? undefined : { max: limits.maxConcurrent, maxQueue: limits.maxQueue ?? 0, queueTimeoutMs: parseDuration(limits.queueTimeout ?? '1s') },
  );
  const guarded = upstreams.some((u) => u.resilience !== undefined);
  if (limiter === undefined && !guarded && !overloadOn) return undefined;
  return new AdmissionGate(route.name, registry, limiter, route.priorityClass, compileFallback(route.fallback));
}
