import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { compileSnapshot } from './config/compile.ts';
import { ConfigSchema, type SluiceConfig } from './config/schema/index.ts';
import { ConfigError, parseDuration, pluginSchemasOf, resolveSecrets, tlsCertificateIssues, validateConfig } from './config/index.ts';
import { builtinPlugins } from './plugins/builtin/index.ts';
import { loadPluginModules } from './plugins/loader.ts';
import { createPluginRegistry } from './plugins/registry.ts';
import type { PluginDefinition } from './plugins/types.ts';
import type { AccessLogSink } from './observability/access-log.ts';
import { flushLogger } from './observability/logger.ts';
import { Logging } from './observability/logging.ts';
import { GatewayMetrics } from './observability/metrics.ts';
import { RequestSummary } from './observability/summary.ts';
import { RequestMetrics, type TargetView } from './observability/request-metrics.ts';
import { PluginMetricsRegistry } from './observability/plugin-metrics.ts';
import { TracingManager } from './observability/tracing-manager.ts';
import { logMetricFamilies } from './observability/log-metrics.ts';
import { createH2Pool, createRawPool, createUndiciPool } from './proxy/client/index.ts';
import type { PoolFactory } from './proxy/client/types.ts';
import { validateRouteConfig } from './router/index.ts';
import { ConfigManager, type ApplyOutcome } from './runtime/config-manager.ts';
import type { PipelineHost } from './runtime/pipeline.ts';
import type { Snapshot } from './runtime/snapshot.ts';
import { ListenerSet } from './server/listener-set.ts';
import { certificateInventory } from './server/certificate-inventory.ts';
import { PoolCache } from './upstream/pool-cache.ts';
import { HealthService } from './upstream/health/service.ts';
import { ResilienceRegistry } from './upstream/resilience/guards.ts';
import { overloadSettings } from './upstream/resilience/overload.ts';
import { startControlPlane, type ControlPlaneHandle } from './admin/wire.ts';
import type { RemoteDataPlane } from './admin/control-plane.ts';
import { localDataPlane, localView, type LocalDataPlane } from './admin/local-data-plane.ts';

export interface GatewayOptions {
  /** Extra plugins besides the built-ins and those in `plugins.paths`. */
  plugins?: PluginDefinition[];
  logger?: Logger;
  /** Directory `plugins.paths` and secret files are relative to. */
  baseDir?: string;
  /** Upstream client implementation (default: the raw-socket client). */
  poolFactory?: PoolFactory;
  /** Where access-log lines go (default: buffered stdout). */
  accessLogSink?: AccessLogSink;
  /** Logging set up by the caller (multi-process primary); by default the gateway creates its own from `logger`/`accessLogSink`. */
  logging?: Logging;
  /** Fields on every app log line (a cluster worker's id and pid). */
  logBindings?: Record<string, unknown>;
  /** Re-reads the config file: enables SIGHUP/admin reloads and file watching. */
  readConfigFile?: () => Promise<unknown>;
  /** Files to watch for changes (the config file; referenced files are added automatically). */
  watchFiles?: string[];
  /** State directory (history, audit, registered targets); overrides `admin.stateDir`. */
  stateDir?: string;
  /**
   * Worker processes serve the traffic (multi-process mode): this gateway binds no public listener,
   * puts every applied config in force in the workers and reads their state for the admin API.
   */
  workers?: RemoteDataPlane;
  /**
   * Run active health checks in this process (default true). A cluster worker passes false: the
   * primary runs them and sends the results (`gateway.health.registry.applyActive`).
   */
  activeHealthChecks?: boolean;
}

export interface Gateway {
  start(): Promise<void>;
  /** Validate, compile and swap in a new config document; the running one stays on any error. */
  reload(raw: unknown, actor?: string): Promise<ApplyOutcome>;
  /** Re-read the config file (SIGHUP). */
  reloadFile(source: 'signal' | 'file', actor?: string): Promise<ApplyOutcome>;
  /** Graceful stop: readiness 503, drain delay, stop accepting, finish in-flight until the deadline. */
  stop(options?: { deadlineMs?: number; drainDelayMs?: number }): Promise<void>;
  current(): Snapshot;
  /** Bound address of each public listener, by listener name. */
  addresses(): Map<string, AddressInfo>;
  adminAddress(): AddressInfo | undefined;
  /** This process's connections, target load and request summary (what a worker reports). */
  readonly local: LocalDataPlane;
  readonly manager: ConfigManager;
  readonly logger: Logger;
  /** Root and per-module loggers, access log, redaction and log sinks (applied from `observability`). */
  readonly logging: Logging;
  /** Target health: checks, outlier ejection, overrides (state kept across reloads). */
  readonly health: HealthService;
}

export interface ValidatedConfig {
  config: SluiceConfig;
  registry: ReadonlyMap<string, PluginDefinition>;
  /** Secret files and plugin modules the config references (watched for changes). */
  files: string[];
}

export async function validateGatewayConfig(raw: unknown, extra: PluginDefinition[], baseDir: string): Promise<ValidatedConfig> {
  const paths = (raw as { plugins?: { paths?: unknown } } | null)?.plugins?.paths;
  const pluginFiles = Array.isArray(paths) ? (paths as string[]).map((p) => resolve(baseDir, p)) : [];
  const loaded = pluginFiles.length > 0 ? await loadPluginModules(paths as string[], baseDir) : [];
  const registry = createPluginRegistry([...builtinPlugins, ...extra, ...loaded]);
  const result = validateConfig(raw, { plugins: registry, routeChecks: (route) => validateRouteConfig(route) });
  if (!result.ok) throw new ConfigError(result.errors);
  // Secret files are read only once the config is known to be valid.
  const { config, files } = await resolveSecrets(result.config, ConfigSchema, baseDir, pluginSchemasOf(registry));
  // Certificates can only be checked once their PEM text is read.
  const tlsIssues = tlsCertificateIssues(config);
  if (tlsIssues.length > 0) throw new ConfigError(tlsIssues);
  return { config, registry, files: [...files, ...pluginFiles] };
}

/** State is persisted only where it can be used: with the admin API on, or when asked explicitly. */
function stateDirOf(raw: unknown, options: GatewayOptions, baseDir: string): string | undefined {
  if (options.stateDir !== undefined) return options.stateDir;
  const admin = (raw as { admin?: { enabled?: boolean; stateDir?: string } } | null)?.admin;
  if (admin?.enabled === false) return undefined;
  return resolve(baseDir, admin?.stateDir ?? '.sluice');
}

/** Create a gateway from a config document (validated here). Nothing is global: many can coexist. */
export async function createGateway(raw: unknown, options: GatewayOptions = {}): Promise<Gateway> {
  const baseDir = options.baseDir ?? process.cwd();
  const extra = options.plugins ?? [];
  const ownLogging = options.logging === undefined;
  const logging =
    options.logging ??
    new Logging({
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(options.accessLogSink === undefined ? {} : { accessLogSink: options.accessLogSink }),
      ...(options.logBindings === undefined ? {} : { bindings: options.logBindings }),
    });
  const logger = logging.logger;
  const pools = new PoolCache({ native: options.poolFactory ?? createRawPool, undici: createUndiciPool, h2: createH2Pool });
  // ~48 KB per route or upstream key at most: 500 keys bound the summary at ~24 MB.
  const summary = new RequestSummary({ maxKeys: 500 });
  const metrics = new GatewayMetrics();
  const requestMetrics = new RequestMetrics({ summary, targets: () => targetViews(snapshot) });
  metrics.registerData(requestMetrics.families());
  requestMetrics.onFamiliesChanged = () => metrics.registerData(requestMetrics.families());
  const pluginMetrics = new PluginMetricsRegistry((family) => metrics.registerData([family]));
  const tracing = new TracingManager(logging.module('tracing'));
  metrics.registerData(tracing.families());
  metrics.registerData(logMetricFamilies(logging));
  const health = new HealthService({
    logger: logging.module('upstream'),
    runChecks: options.activeHealthChecks ?? true,
    registry: metrics.dataRegistry,
    // Multi-process: checks run here once; each worker gets every change.
    ...(options.workers === undefined ? {} : { onActiveChange: (states) => void options.workers!.activeHealth(states) }),
  });
  // Breakers, limits and overload state outlive snapshots (keyed by upstream / route name).
  const resilience = new ResilienceRegistry(logging.module('proxy'));
  metrics.registerData(resilience.metrics.families());
  let snapshot: Snapshot | undefined;
  let draining = false;
  let started = false;
  // From the applied config, so a multi-process primary (no listeners of its own) reports them too.
  metrics.trackCertificates(() => (snapshot === undefined ? [] : certificateInventory(snapshot.config)));
  const host: PipelineHost = {
    current: () => snapshot!,
    logger: logging.module('proxy'),
    get accessLog() {
      return logging.accessLog;
    },
    get tracer() {
      return tracing.current;
    },
    get metrics() {
      return requestMetrics.enabled ? requestMetrics : undefined;
    },
  };
  const listeners = new ListenerSet(host, logging.module('proxy'));
  const current = () => snapshot!;
  const local = localDataPlane(listeners, current, summary, metrics);
  const workers = options.workers;
  if (workers !== undefined) metrics.aggregateWith(() => workers.metrics());
  const plane: ControlPlaneHandle = await startControlPlane({
    metrics,
    stateDir: stateDirOf(raw, options, baseDir),
    historyLimit: (raw as { admin?: { historyLimit?: number } } | null)?.admin?.historyLimit ?? 50,
    logger: logging.module('admin'),
    logLevels: {
      get: () => logging.levels(),
      async set(level, module) {
        logging.setLevel(level, module);
        await workers?.setLogLevels(logging.levels());
      },
    },
    data: workers ?? localView(local, current, summary),
    listenerCount: () => (workers === undefined ? listeners.size : snapshot!.config.listeners.length),
    current,
    health: health.registry,
    readiness: () => ({ ready: started && !draining && (workers?.ready() ?? true), draining }),
  });
  let validatedFiles: string[] = [];
  // The document last built (overlays applied): what workers build too once it is swapped in.
  let builtDocument: unknown;

  async function build(document: unknown, version: number): Promise<Snapshot> {
    const { config, registry, files } = await validateGatewayConfig(document, extra, baseDir);
    validatedFiles = files;
    builtDocument = document;
    requestMetrics.configure(config.observability?.metrics);
    const built = await compileSnapshot(config, {
      version,
      plugins: registry,
      pools,
      health: health.registry,
      logger: logging.module('plugins'),
      metrics: requestMetrics,
      pluginMetrics,
      resilience: workers === undefined ? resilience : undefined,
    });
    plane.applyHealthOverrides(built);
    return built;
  }

  async function swap(next: Snapshot): Promise<void> {
    const previous = snapshot;
    snapshot = next;
    health.applied(next);
    const config = next.config;
    logging.apply(config.observability);
    // Sampled only where traffic is served (not in a multi-process primary).
    resilience.overload.configure(workers === undefined ? overloadSettings(config.overload) : undefined);
    resilience.retain(next.upstreams.keys(), (config.routes ?? []).map((r) => r.name));
    await plane.configChanged(config, validatedFiles);
    if (workers !== undefined) await workers.applied({ document: builtDocument, version: next.version, health: plane.healthOverrides(), activeHealth: health.registry.activeStates(), logLevels: logging.levels() });
    else if (started) await listeners.sync(config.listeners, drainDeadline(config));
    const retired = previous === undefined ? Promise.resolve() : previous.retire();
    // A replaced tracer flushes once the requests holding its spans are done.
    tracing.apply(config.observability?.tracing, retired);
  }

  const manager = new ConfigManager({
    build,
    swap,
    overlay: (document, pending) => plane.overlayConfig(document, pending),
    history: plane.history,
    logger: logging.module('config'),
    ...(options.readConfigFile === undefined ? {} : { readFile: options.readConfigFile }),
    onRejected: (meta) => {
      plane.configRejected();
      metrics.configApplies.inc({ source: meta.source, result: 'rejected' });
    },
    onApplied: (meta, version) => {
      metrics.configApplies.inc({ source: meta.source, result: 'applied' });
      metrics.configVersion.set(version);
    },
  });
  plane.attach(manager);
  const first = await manager.apply(raw, { source: 'startup', actor: 'system' });
  if (!first.ok) {
    health.close();
    await plane.close();
    if (ownLogging) await logging.close(1000);
    throw new ConfigError(first.errors);
  }

  return {
    logger,
    logging,
    manager,
    local,
    health,
    current,
    async start() {
      try {
        if (workers === undefined) await listeners.sync(snapshot!.config.listeners, 0);
        await plane.start(snapshot!.config, options.watchFiles);
        started = true;
      } catch (error) {
        await listeners.close(0);
        await plane.close();
        throw error;
      }
    },
    reload: (document, actor = 'system') => manager.apply(document, { source: 'api', actor }),
    reloadFile: (source, actor = 'system') => manager.reloadFile({ source, actor }),
    async stop(stopOptions = {}) {
      const startedAt = performance.now();
      const shutdown = snapshot!.config.shutdown ?? {};
      draining = true;
      metrics.draining.set(1);
      const drainDelayMs = stopOptions.drainDelayMs ?? parseDuration(shutdown.drainDelay ?? '0s');
      // Readiness already says 503: give load balancers time to notice before we stop accepting.
      if (drainDelayMs > 0) await new Promise((r) => setTimeout(r, drainDelayMs));
      const inflight = snapshot!.inflight;
      const deadlineMs = stopOptions.deadlineMs ?? drainDeadline(snapshot!.config);
      const forced = workers === undefined ? await listeners.close(deadlineMs) : (await workers.stop(deadlineMs), false);
      const outcome = forced ? 'deadline' : 'clean';
      await snapshot!.retire();
      health.close();
      pools.destroyAll();
      resilience.close();
      metrics.shutdownSeconds.set({ outcome }, (performance.now() - startedAt) / 1000);
      await plane.close();
      await tracing.shutdown(Math.max(250, deadlineMs - (performance.now() - startedAt)));
      logging.module('gateway').info({ durationMs: Math.round(performance.now() - startedAt), inflightAtStart: inflight, outcome }, 'gateway stopped');
      // What is left of the shutdown deadline (at least a moment) to flush and close the log sinks.
      await logging.close(Math.max(250, deadlineMs - (performance.now() - startedAt)));
      flushLogger(logger);
    },
    addresses: () => listeners.addresses(),
    adminAddress: () => plane.adminAddress(),
  };
}

/** The targets of the config in force, for the target gauges (read at scrape time). */
function* targetViews(snapshot: Snapshot | undefined): Iterable<TargetView> {
  if (snapshot === undefined) return;
  for (const upstream of snapshot.upstreams.values()) {
    for (const t of upstream.targets) {
      const pool = t.pool.stats();
      yield {
        upstream: upstream.name,
        target: t.id,
        available: t.available,
        inflight: t.inflight,
        open: pool.open,
        idle: pool.idle,
        queued: pool.queued,
        connects: pool.connectsTotal,
        retries: pool.retriesTotal,
      };
    }
  }
}

function drainDeadline(config: SluiceConfig): number {
  return parseDuration(config.shutdown?.deadline ?? '30s');
}
