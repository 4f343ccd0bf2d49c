import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The gateway's Prometheus registry — one per gateway (no global default registry), exported in
 * text format at GET /metrics on the admin listener. Control-plane figures live here; the
 * per-request data-plane series are added by the observability work.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly configApplies: Counter<'source' | 'result'>;
  readonly configVersion: Gauge;
  readonly draining: Gauge;
  readonly shutdownSeconds: Gauge<'outcome'>;

  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.configApplies = new Counter({
      name: 'sluice_config_applies_total',
      help: 'Config changes by source (startup, file, signal, api, rollback) and result (applied, rejected)',
      labelNames: ['source', 'result'],
      registers,
    });
    this.configVersion = new Gauge({ name: 'sluice_config_version', help: 'Version number of the config in force', registers });
    this.draining = new Gauge({ name: 'sluice_draining', help: '1 while the gateway drains for shutdown', registers });
    this.shutdownSeconds = new Gauge({
      name: 'sluice_shutdown_duration_seconds',
      help: 'Duration of the last graceful shutdown, by outcome (clean: every request finished; deadline: some were cut)',
      labelNames: ['outcome'],
      registers,
    });
    if (options.processMetrics !== false) {
      collectDefaultMetrics({ register: this.registry, prefix: 'sluice_' });
      // prom-client names these gauges *_total, which Prometheus reserves for counters (promtool rejects them).
      for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
        this.registry.removeSingleMetric(`sluice_${name}`);
      }
    }
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
