import { AggregatorRegistry, Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** What a registry's getMetricsAsJSON() gives: what workers send the primary to be aggregated. */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/**
 * The gateway's Prometheus registries — per gateway (no global default registry), served in text
 * format at GET /metrics on the admin listener.
 *
 * - `registry`: control-plane figures (config applies, version, drain), owned by the process that
 *   runs the control plane.
 * - `dataRegistry`: what every serving process has — per-request series, target gauges, log-sink
 *   and tracing figures, process and event-loop metrics. In multi-process mode the primary sums
 *   the workers' data registries (and its own) with prom-client's AggregatorRegistry.aggregate,
 *   each metric by its aggregator (counters and histograms add up exactly; event-loop lag is
 *   averaged, as prom-client defines for its default metrics).
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly dataRegistry = new Registry();
  #remote: (() => Promise<MetricsJson[]>) | undefined;
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
      collectDefaultMetrics({ register: this.dataRegistry, prefix: 'sluice_' });
      // prom-client names these gauges *_total, which Prometheus reserves for counters (promtool rejects them).
      for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
        this.dataRegistry.removeSingleMetric(`sluice_${name}`);
      }
    }
  }

  /**
   * Expiry gauges of the served certificates, read at scrape time from `source` (which must be
   * cheap: the gateway parses certificates once per applied config).
   */
  trackCertificates(source: () => Iterable<{ listener: string; name: string; notBeforeSeconds: number; notAfterSeconds: number }>): void {
    const registers = [this.registry];
    const fill = (gauge: Gauge<'listener' | 'certificate'>, pick: (c: { notBeforeSeconds: number; notAfterSeconds: number }) => number) => {
      gauge.reset();
      for (const c of source()) gauge.set({ listener: c.listener, certificate: c.name }, pick(c));
    };
    const expiry: Gauge<'listener' | 'certificate'> = new Gauge({
      name: 'sluice_tls_certificate_expiry_timestamp_seconds',
      help: 'notAfter of each certificate an https listener serves, as unix seconds (alert when it nears time())',
      labelNames: ['listener', 'certificate'],
      registers,
      collect: () => fill(expiry, (c) => c.notAfterSeconds),
    });
    const notBefore: Gauge<'listener' | 'certificate'> = new Gauge({
      name: 'sluice_tls_certificate_not_before_timestamp_seconds',
      help: 'notBefore of each certificate an https listener serves, as unix seconds',
      labelNames: ['listener', 'certificate'],
      registers,
      collect: () => fill(notBefore, (c) => c.notBeforeSeconds),
    });
  }

  /** Add (or replace, by name) data-plane metrics: anything with prom-client's metric shape. */
  registerData(metrics: Iterable<{ name: string }>): void {
    for (const m of metrics) {
      this.dataRegistry.removeSingleMetric(m.name);
      this.dataRegistry.registerMetric(m as unknown as Parameters<Registry['registerMetric']>[0]);
    }
  }

  /** Multi-process mode: the workers' data registries, summed into what /metrics shows. */
  aggregateWith(remote: () => Promise<MetricsJson[]>): void {
    this.#remote = remote;
  }

  async text(): Promise<string> {
    if (this.#remote === undefined) return Registry.merge([this.registry, this.dataRegistry]).metrics();
    const [own, workers] = await Promise.all([this.dataRegistry.getMetricsAsJSON(), this.#remote()]);
    const summed = AggregatorRegistry.aggregate([own, ...workers]);
    return Registry.merge([this.registry, summed as Registry]).metrics();
  }

  exportData(): Promise<MetricsJson> {
    return this.dataRegistry.getMetricsAsJSON();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
