import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { AdminServer } from './admin/server.ts';
import { compileSnapshot } from './config/compile.ts';
import { ConfigSchema, type SluiceConfig } from './config/schema/index.ts';
import { ConfigError, pluginSchemasOf, resolveSecrets, validateConfig } from './config/index.ts';
import { builtinPlugins } from './plugins/builtin/index.ts';
import { loadPluginModules } from './plugins/loader.ts';
import { createPluginRegistry } from './plugins/registry.ts';
import type { PluginDefinition } from './plugins/types.ts';
import { AccessLog, bufferedStdout, type AccessLogSink } from './observability/access-log.ts';
import { createLogger } from './observability/logger.ts';
import { createRawPool, createUndiciPool } from './proxy/client/index.ts';
import type { PoolFactory } from './proxy/client/types.ts';
import { validateRouteConfig } from './router/index.ts';
import type { PipelineHost } from './runtime/pipeline.ts';
import type { Snapshot } from './runtime/snapshot.ts';
import { PublicListener } from './server/listener.ts';
import { PoolCache } from './upstream/pool-cache.ts';

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
}

export interface Gateway {
  start(): Promise<void>;
  /** Validate, compile and swap in a new config; the running one stays on any error. */
  reload(raw: unknown): Promise<Snapshot>;
  /** Graceful stop: readiness 503, stop accepting, finish in-flight until the deadline. */
  stop(options?: { deadlineMs?: number }): Promise<void>;
  current(): Snapshot;
  /** Bound address of each public listener, by listener name. */
  addresses(): Map<string, AddressInfo>;
  adminAddress(): AddressInfo | undefined;
  readonly logger: Logger;
}

export async function validateGatewayConfig(raw: unknown, extra: PluginDefinition[], baseDir: string) {
  const paths = (raw as { plugins?: { paths?: unknown } } | null)?.plugins?.paths;
  const loaded = Array.isArray(paths) ? await loadPluginModules(paths as string[], baseDir) : [];
  const registry = createPluginRegistry([...builtinPlugins, ...extra, ...loaded]);
  const result = validateConfig(raw, { plugins: registry, routeChecks: (route) => validateRouteConfig(route) });
  if (!result.ok) throw new ConfigError(result.errors);
  // Secret files are read only once the config is known to be valid.
  const { config } = await resolveSecrets(result.config, ConfigSchema, baseDir, pluginSchemasOf(registry));
  return { config, registry };
}

/** Create a gateway from a config object (validated here). Nothing is global: many can coexist. */
export async function createGateway(raw: unknown, options: GatewayOptions = {}): Promise<Gateway> {
  const baseDir = options.baseDir ?? process.cwd();
  const extra = options.plugins ?? [];
  const first = await validateGatewayConfig(raw, extra, baseDir);
  const logger = options.logger ?? createLogger({ level: first.config.observability?.logLevel ?? 'info' });
  const pools = new PoolCache({ native: options.poolFactory ?? createRawPool, undici: createUndiciPool });
  let version = 1;
  let snapshot = await compileSnapshot(first.config, { version, plugins: first.registry, pools, logger });
  const accessSink = options.accessLogSink ?? bufferedStdout();
  const accessLogFor = (config: SluiceConfig) => (config.observability?.accessLog === false ? undefined : new AccessLog(accessSink));
  let accessLog = accessLogFor(first.config);
  const host: PipelineHost = {
    current: () => snapshot,
    logger,
    get accessLog() {
      return accessLog;
    },
  };
  const listeners: PublicListener[] = [];
  let admin: AdminServer | undefined;
  let adminAddress: AddressInfo | undefined;
  let draining = false;
  let started = false;

  async function startAdmin(config: SluiceConfig): Promise<void> {
    const settings = config.admin ?? {};
    if (settings.enabled === false) return;
    admin = new AdminServer(
      {
        isReady: () => started && !draining,
        readinessDetail: () => ({ draining, configVersion: snapshot.version, listeners: listeners.length }),
      },
      logger,
    );
    adminAddress = await admin.listen(settings.port ?? 9901, settings.host ?? '127.0.0.1');
    logger.info({ address: adminAddress }, 'admin listener started');
  }

  return {
    logger,
    current: () => snapshot,
    async start() {
      try {
        for (const config of snapshot.config.listeners) {
          const listener = await PublicListener.start(config, host);
          listeners.push(listener);
          logger.info({ listener: config.name, address: listener.address() }, 'listener started');
        }
        await startAdmin(snapshot.config);
        started = true;
      } catch (error) {
        await Promise.allSettled(listeners.map((l) => l.close(0)));
        await admin?.close();
        throw error;
      }
    },
    async reload(next: unknown) {
      const { config, registry } = await validateGatewayConfig(next, extra, baseDir);
      const compiled = await compileSnapshot(config, { version: ++version, plugins: registry, pools, logger });
      const previous = snapshot;
      snapshot = compiled;
      accessLog = accessLogFor(config);
      void previous.retire();
      logger.info({ version: compiled.version }, 'config applied');
      return compiled;
    },
    async stop(options = {}) {
      draining = true;
      const deadlineMs = options.deadlineMs ?? 30_000;
      await Promise.allSettled(listeners.map((l) => l.close(deadlineMs)));
      await snapshot.retire();
      pools.destroyAll();
      await admin?.close();
      accessSink.flush?.();
      logger.info('gateway stopped');
    },
    addresses: () => new Map(listeners.map((l) => [l.config.name, l.address()])),
    adminAddress: () => adminAddress,
  };
}
