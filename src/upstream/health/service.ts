import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Snapshot } from '../../runtime/snapshot.ts';
import { HealthRegistry, type ActiveHealth } from '../target-state.ts';
import { ActiveChecks, type CheckResult } from './active.ts';

export interface HealthServiceOptions {
  logger: Logger;
  /**
   * Run active checks here (single process, multi-process primary). A cluster worker does not:
   * it receives the primary's results (`applyActive`).
   */
  runChecks: boolean;
  /** Active state changes, to broadcast to worker processes (multi-process primary). */
  onActiveChange?: (states: Record<string, ActiveHealth>) => void;
  /** Where the health metrics are registered (the data-plane registry: summed over workers). */
  registry?: Registry;
}

/**
 * Target health for one gateway: the long-lived registry the snapshots bind to, the active checks,
 * their metrics and the transition logs. Created once per gateway, like the pool cache.
 */
export class HealthService {
  readonly registry = new HealthRegistry();
  readonly #checks: ActiveChecks | undefined;
  readonly #logger: Logger;
  readonly #duration: Histogram<'upstream'>;

  constructor(private readonly options: HealthServiceOptions) {
    this.#logger = options.logger;
    this.registry.onEvent = (e) => {
      if (e.event === 'ejected') this.#logger.warn({ upstream: e.upstream, target: e.url, ejections: e.ejections, durationMs: e.durationMs }, 'target ejected (outlier detection)');
      else this.#logger.info({ upstream: e.upstream, target: e.url }, 'ejected target re-admitted');
    };
    this.#checks = options.runChecks ? new ActiveChecks(this.registry, (r) => this.#result(r)) : undefined;
    const registry = this.registry;
    const registers = options.registry === undefined ? [] : [options.registry];
    this.#duration = new Histogram({
      name: 'sluice_health_check_duration_seconds',
      help: 'Duration of active health checks, by upstream',
      labelNames: ['upstream'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    const healthy: Gauge<'upstream' | 'target'> = new Gauge({
      name: 'sluice_upstream_target_healthy',
      help: '1 when the target is routable (active checks, outlier ejection, overrides, panic); multi-process: the minimum over processes',
      labelNames: ['upstream', 'target'],
      aggregator: 'min',
      registers,
      collect: () => {
        healthy.reset();
        for (const g of registry.upstreams.values()) for (const s of g.states.values()) healthy.set({ upstream: g.name, target: s.url }, s.routable ? 1 : 0);
      },
    });
    const checks: Counter<'upstream' | 'target' | 'result'> = new Counter({
      name: 'sluice_health_checks_total',
      help: 'Active health checks by result (pass, fail)',
      labelNames: ['upstream', 'target', 'result'],
      registers,
      collect: () => {
        checks.reset();
        for (const g of registry.upstreams.values()) {
          if (!g.checked) continue;
          for (const s of g.states.values()) {
            checks.inc({ upstream: g.name, target: s.url, result: 'pass' }, s.checksPassed);
            checks.inc({ upstream: g.name, target: s.url, result: 'fail' }, s.checksFailed);
          }
        }
      },
    });
    const ejections: Counter<'upstream' | 'target'> = new Counter({
      name: 'sluice_upstream_target_ejections_total',
      help: 'Outlier ejections of the target (passive health; per process, summed)',
      labelNames: ['upstream', 'target'],
      registers,
      collect: () => {
        ejections.reset();
        for (const g of registry.upstreams.values()) for (const s of g.states.values()) ejections.inc({ upstream: g.name, target: s.url }, s.ejectionsTotal);
      },
    });
    const panic: Gauge<'upstream'> = new Gauge({
      name: 'sluice_upstream_panic',
      help: '1 while the upstream is in panic mode (too few healthy targets: all are routed to)',
      labelNames: ['upstream'],
      aggregator: 'max',
      registers,
      collect: () => {
        panic.reset();
        for (const g of registry.upstreams.values()) panic.set({ upstream: g.name }, g.panic ? 1 : 0);
      },
    });
  }

  /** A snapshot is in force: states of removed targets go, checks follow the new config. */
  applied(snapshot: Snapshot): void {
    // Settings of the config in force (a candidate that failed to compile may have bound its own).
    for (const config of snapshot.config.upstreams ?? []) this.registry.group(config.name).configure(config);
    this.registry.sync(snapshot.upstreams.values());
    this.#checks?.sync(
      (snapshot.config.upstreams ?? []).flatMap((config) => {
        const upstream = snapshot.upstreams.get(config.name);
        return upstream === undefined ? [] : [{ config, targets: upstream.targets }];
      }),
    );
  }

  #result(r: CheckResult): void {
    this.#duration.observe({ upstream: r.upstream }, r.durationMs / 1000);
    if (r.changed === undefined) return;
    const fields = { upstream: r.upstream, target: r.url, active: r.changed, reason: r.reason ?? undefined };
    if (r.changed === 'healthy') this.#logger.info(fields, 'target passed its health checks');
    else this.#logger.warn(fields, 'target failed its health checks');
    this.options.onActiveChange?.({ [`${r.upstream} ${r.url}`]: r.changed });
  }

  close(): void {
    this.#checks?.close();
    this.registry.close();
  }
}
