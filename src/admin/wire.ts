import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { diffConfigs } from '../config/diff.ts';
import { ConfigHistory } from '../config/history.ts';
import { ConfigSchema, type SluiceConfig } from '../config/schema/index.ts';
import { redactSecrets } from '../config/index.ts';
import { ConfigWatcher } from '../config/watch.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import type { ConfigManager } from '../runtime/config-manager.ts';
import type { Snapshot } from '../runtime/snapshot.ts';
import { TargetOverlay, type HealthOverride, type OverlayState } from '../upstream/target-overlay.ts';
import type { HealthRegistry } from '../upstream/target-state.ts';
import { AuditLog } from './audit-log.ts';
import type { ControlPlane, DataPlaneView, LogLevelsState } from './control-plane.ts';
import { LOG_MODULES, type LogLevel, type LogModule } from '../config/schema/observability.ts';
import { AdminHttpServer } from './http/server.ts';
import { adminRoutes } from './resources/index.ts';

export interface ControlPlaneOptions {
  metrics: GatewayMetrics;
  stateDir: string | undefined;
  historyLimit: number;
  logger: Logger;
  /** Data-plane state: this process, or every worker process. */
  data: DataPlaneView;
  /** Public listeners serving (for /readyz detail). */
  listenerCount(): number;
  current(): Snapshot;
  /** Target health states (overrides are put in force there). */
  health: HealthRegistry;
  readiness(): { ready: boolean; draining: boolean };
  /** Runtime log levels (the gateway's logging); default: the root level of `logger` only. */
  logLevels?: { get(): LogLevelsState; set(level: LogLevel, module?: LogModule): Promise<void> };
}

/** What the gateway drives: the control plane's hooks into the config lifecycle. */
export interface ControlPlaneHandle {
  readonly history: ConfigHistory;
  attach(manager: ConfigManager): void;
  overlayConfig(document: unknown, pending?: unknown): unknown;
  applyHealthOverrides(snapshot: Snapshot): void;
  configChanged(config: SluiceConfig, files: string[]): Promise<void>;
  configRejected(): void;
  /** Operator health overrides in force, keyed `${upstream} ${url}`. */
  healthOverrides(): Record<string, HealthOverride>;
  start(config: SluiceConfig, watchFiles: string[] | undefined): Promise<void>;
  close(): Promise<void>;
  adminAddress(): AddressInfo | undefined;
}

function json(res: import('node:http').ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlaneHandle> {
  const { logger } = options;
  const history = await ConfigHistory.open({ dir: options.stateDir, limit: options.historyLimit, logger });
  const audit = await AuditLog.open({ dir: options.stateDir, logger });
  const overlay = await TargetOverlay.open(options.stateDir);
  let manager: ConfigManager | undefined;
  let admin: AdminHttpServer | undefined;
  let adminAddress: AddressInfo | undefined;
  let watcher: ConfigWatcher | undefined;
  let watchFiles: string[] = [];
  // Secret files and plugin modules of the config in force (the startup config is applied before start()).
  let referenced: string[] = [];
  let rejected = 0;

  const plane: ControlPlane = {
    get manager() {
      return manager!;
    },
    history,
    audit,
    overlay,
    health: options.health,
    data: options.data,
    logger,
    current: options.current,
    redact: (document) => redactSecrets(document, ConfigSchema),
    diff: diffConfigs,
    async applyOverlay(actor: string, next: OverlayState) {
      const outcome = await manager!.refresh({ source: 'api', actor }, next);
      if (!outcome.ok) return outcome;
      await overlay.commit(next);
      return { ok: true as const, version: outcome.version };
    },
    async setTargetHealth(upstream, url, state) {
      await overlay.setHealth(upstream, url, state);
      options.health.setOverride(upstream, url, state === 'auto' ? undefined : state);
      await options.data.setHealth(upstream, url, state);
    },
    setLogLevel: async (level, module) => {
      if (options.logLevels !== undefined) return options.logLevels.set(level, module);
      if (module === undefined) logger.level = level;
    },
    logLevels: () =>
      options.logLevels?.get() ?? {
        level: logger.level as LogLevel,
        modules: Object.fromEntries(LOG_MODULES.map((m) => [m, logger.level])) as Record<LogModule, LogLevel>,
      },
    readiness: options.readiness,
  };

  const publicRoutes = [
    {
      path: '/metrics',
      handler: (_req: unknown, res: import('node:http').ServerResponse) => {
        options.metrics.text().then(
          (text) => {
            res.writeHead(200, { 'content-type': options.metrics.contentType, 'content-length': Buffer.byteLength(text) });
            res.end(text);
          },
          (error: unknown) => {
            logger.error({ err: error }, 'metrics collection failed');
            json(res, 500, { status: 'error' });
          },
        );
      },
    },
    { path: '/healthz', handler: (_req: unknown, res: import('node:http').ServerResponse) => json(res, 200, { status: 'ok' }) },
    {
      path: '/readyz',
      handler: (_req: unknown, res: import('node:http').ServerResponse) => {
        const { ready, draining } = options.readiness();
        const detail = { status: ready ? 'ready' : 'not ready', draining, configVersion: manager?.version ?? 0, listeners: options.listenerCount(), workers: options.data.workers().filter((w) => w.status === 'up').length, configRejections: rejected };
        json(res, ready ? 200 : 503, detail);
      },
    },
  ];

  return {
    history,
    attach: (m) => void (manager = m),
    overlayConfig: (document, pending) => (pending === undefined ? overlay.apply(document) : overlay.preview(pending as OverlayState, document)),
    applyHealthOverrides(snapshot) {
      for (const upstream of snapshot.upstreams.values()) {
        for (const target of upstream.targets) options.health.setOverride(upstream.name, target.id, overlay.health(upstream.name, target.id));
      }
    },
    async configChanged(config, files) {
      try {
        admin?.setAuth(config.admin ?? {});
      } catch (error) {
        // The new credentials are unusable: the admin API keeps the previous ones.
        logger.error({ err: error }, 'admin auth change not applied');
      }
      referenced = files;
      if (watcher !== undefined) await watcher.track([...watchFiles, ...files]);
    },
    configRejected: () => void rejected++,
    healthOverrides: () => overlay.healthOverrides(),
    async start(config, files) {
      const settings = config.admin ?? {};
      if (files !== undefined && files.length > 0 && manager !== undefined) {
        watchFiles = files;
        watcher = await ConfigWatcher.start({
          // Certificate and other secret files too: replacing them on disk reloads like a config edit.
          files: [...files, ...referenced],
          onChange: (changed) => {
            logger.info({ changed }, 'config file changed');
            void manager!.reloadFile({ source: 'file', actor: 'file-watch' });
          },
          onError: (error) => logger.warn({ err: error }, 'config watch error'),
        });
      }
      if (settings.enabled === false) return;
      admin = new AdminHttpServer({
        routes: adminRoutes(plane),
        auth: settings,
        rateLimitPerMinute: settings.rateLimit?.requestsPerMinute ?? 600,
        audit,
        logger,
        publicRoutes,
      });
      adminAddress = await admin.listen(settings.port ?? 9901, settings.host ?? '127.0.0.1');
      logger.info({ address: adminAddress }, 'admin listener started');
    },
    async close() {
      watcher?.close();
      await admin?.close();
      await audit.flush();
    },
    adminAddress: () => adminAddress,
  };
}
