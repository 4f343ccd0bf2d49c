import { Counter, Gauge } from 'prom-client';
import { BREAKER_STATE_VALUE } from './circuit-breaker.ts';
import type { ResilienceRegistry } from './guards.ts';
import type { ConcurrencyLimiter } from './limiter.ts';

export type RejectionReason = 'circuit-open' | 'limit' | 'queue-timeout' | 'shed' | 'overload';

/** Metric families of breakers, limits and shedding (registered once per gateway). */
export class ResilienceMetrics {
  readonly state: Gauge<'upstream' | 'target'>;
  readonly transitions: Counter<'upstream' | 'target' | 'to'>;
  readonly rejections: Counter<'scope' | 'name' | 'reason'>;
  readonly queueDepth: Gauge<'scope' | 'name'>;
  readonly inflight: Gauge<'scope' | 'name'>;
  readonly overloaded: Gauge;

  constructor(registry: ResilienceRegistry) {
    const registers: [] = [];
    this.state = new Gauge({
      name: 'sluice_circuit_breaker_state',
      help: 'Circuit breaker state: 0 closed, 1 open, 2 half-open (target="" is the upstream-level breaker)',
      labelNames: ['upstream', 'target'],
      registers,
      // Multi-process: non-zero when any worker's breaker is not closed.
      aggregator: 'max',
      collect() {
        this.reset();
        for (const g of registry.upstreams.values()) {
          if (g.breaker !== undefined) this.set({ upstream: g.name, target: '' }, BREAKER_STATE_VALUE[g.breaker.state]);
          for (const t of g.targets.values()) this.set({ upstream: g.name, target: t.url }, BREAKER_STATE_VALUE[t.breaker.state]);
        }
      },
    });
    this.transitions = new Counter({ name: 'sluice_circuit_breaker_transitions_total', help: 'Circuit breaker state changes', labelNames: ['upstream', 'target', 'to'], registers });
    this.rejections = new Counter({
      name: 'sluice_admission_rejections_total',
      help: 'Requests refused before reaching an upstream: circuit-open, limit (queue full), queue-timeout, shed (displaced by higher priority), overload (global protection)',
      labelNames: ['scope', 'name', 'reason'],
      registers,
    });
    const each = (gauge: Gauge<'scope' | 'name'>, pick: (l: ConcurrencyLimiter) => number) => {
      gauge.reset();
      for (const [name, l] of registry.routeLimiters) gauge.set({ scope: 'route', name }, pick(l));
      for (const g of registry.upstreams.values()) if (g.limiter !== undefined) gauge.set({ scope: 'upstream', name: g.name }, pick(g.limiter));
    };
    this.queueDepth = new Gauge({
      name: 'sluice_admission_queue_depth',
      help: 'Requests waiting for a route or upstream concurrency slot',
      labelNames: ['scope', 'name'],
      registers,
      collect() {
        each(this, (l) => l.queued);
      },
    });
    this.inflight = new Gauge({
      name: 'sluice_admission_inflight',
      help: 'Requests holding a route or upstream concurrency slot',
      labelNames: ['scope', 'name'],
      registers,
      collect() {
        each(this, (l) => l.inflight);
      },
    });
    this.overloaded = new Gauge({
      name: 'sluice_overloaded',
      help: '1 while global protection sheds low-priority traffic (event-loop lag or heap over threshold)',
      registers,
      aggregator: 'max',
      collect() {
        this.set(registry.overload.overloaded ? 1 : 0);
      },
    });
  }

  families(): Array<{ name: string }> {
    return [this.state, this.transitions, this.rejections, this.queueDepth, this.inflight, this.overloaded] as unknown as Array<{ name: string }>;
  }
}
