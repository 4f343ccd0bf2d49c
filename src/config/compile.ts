import type { Logger } from 'pino';
import type { PluginDefinition } from '../plugins/types.ts';
import { compilePluginChain, mergePluginScopes, type PluginChain } from '../plugins/chain.ts';
import { compileRewrite, compileRouteTable } from '../router/index.ts';
import type { RouteEntry, RouteTable } from '../router/types.ts';
import type { CompiledRoute, WebSocketPolicy } from '../runtime/snapshot.ts';
import { Snapshot } from '../runtime/snapshot.ts';
import type { PluginMetricsRegistry } from '../observability/plugin-metrics.ts';
import type { RequestMetrics } from '../observability/request-metrics.ts';
import type { PoolCache } from '../upstream/pool-cache.ts';
import type { HealthRegistry } from '../upstream/target-state.ts';
import { Upstream } from '../upstream/upstream.ts';
import { compileRetry, DEFAULT_RETRY } from '../upstream/retry.ts';
import { compileAdmission } from '../upstream/resilience/admission.ts';
import type { ResilienceRegistry } from '../upstream/resilience/guards.ts';
import type { RouteConfig, RouteWebSocketConfig, SluiceConfig } from './schema/index.ts';
import { parseDuration, parseSize } from './units.ts';

export interface CompileOptions {
  version: number;
  plugins: ReadonlyMap<string, PluginDefinition>;
  pools: PoolCache;
  /** Target health kept across snapshots (checks, ejections, overrides); none in bare compiles. */
  health?: HealthRegistry | undefined;
  logger: Logger;
  /** Per-request metrics: series are bound to routes and upstreams here, not looked up per request. */
  metrics?: RequestMetrics | undefined;
  /** Where plugins' own metrics are declared (shared across versions). */
  pluginMetrics?: PluginMetricsRegistry | undefined;
  /** Long-lived breakers, limits and overload monitor (absent: no admission control). */
  resilience?: ResilienceRegistry | undefined;
}

async function chainFor(
  pluginConfigs: Record<string, unknown>,
  options: CompileOptions,
  scope: 'global' | 'route',
  route: string | undefined,
): Promise<PluginChain> {
  const entries = Object.entries(pluginConfigs).map(([name, config]) => {
    const definition = options.plugins.get(name);
    // validateConfig rejects unknown plugins; this guards callers that skipped it.
    if (definition === undefined) throw new Error(`unknown plugin "${name}"`);
    return { definition, config };
  });
  const logger = options.logger.child(route === undefined ? { scope } : { scope, route });
  return compilePluginChain(entries, { scope, route, logger, metricsRegistry: options.pluginMetrics });
}

function upstreamPicker(route: RouteConfig, upstreams: ReadonlyMap<string, Upstream>): () => Upstream {
  if (route.upstream !== undefined) {
    const only = upstreams.get(route.upstream)!;
    return () => only;
  }
  // Traffic split: cumulative weights, one random draw per request.
  const split = route.upstreams!.filter((u) => u.weight > 0);
  const picks = split.map((u) => upstreams.get(u.name)!);
  const cumulative: number[] = [];
  let total = 0;
  for (const u of split) cumulative.push((total += u.weight));
  return () => {
    const r = Math.random() * total;
    for (let i = 0; i < cumulative.length; i++) if (r < cumulative[i]!) return picks[i]!;
    return picks[picks.length - 1]!;
  };
}

/** Route WebSocket settings with their defaults (idle 60s like nginx proxy_read_timeout, 16 MiB messages). */
function compileWebSocket(ws: RouteWebSocketConfig | undefined): WebSocketPolicy | undefined {
  if (ws?.enabled === false) return undefined;
  const maxMessage = parseSize(ws?.maxMessageSize ?? '16mb');
  return {
    // setTimeout's ceiling (~24.8 days): longer would fire at once.
    idleTimeoutMs: Math.min(parseDuration(ws?.idleTimeout ?? '60s'), 2 ** 31 - 1),
    maxMessage,
    maxFrame: ws?.maxFrameSize === undefined ? maxMessage : parseSize(ws.maxFrameSize),
  };
}

async function compileRoute(
  route: RouteConfig,
  config: SluiceConfig,
  upstreams: ReadonlyMap<string, Upstream>,
  options: CompileOptions,
): Promise<CompiledRoute> {
  const plugins = mergePluginScopes(config.plugins?.global, route.plugins);
  return {
    info: { name: route.name, upstream: route.upstream },
    chain: await chainFor(plugins, options, 'route', route.name),
    rewrite: compileRewrite(route.rewrite),
    pickUpstream: upstreamPicker(route, upstreams),
    preserveHost: route.preserveHost,
    responseTimeoutMs: route.timeouts?.response === undefined ? undefined : parseDuration(route.timeouts.response),
    bodyIdleTimeoutMs: route.timeouts?.bodyIdle === undefined ? undefined : parseDuration(route.timeouts.bodyIdle),
    // setTimeout's ceiling (~24.8 days): longer would fire at once.
    deadlineMs: Math.min(parseDuration(route.timeouts?.deadline ?? 0), 2 ** 31 - 1),
    retry: route.retry === undefined ? DEFAULT_RETRY : compileRetry(route.retry),
    maxBodySize: route.maxBodySize === undefined ? undefined : parseSize(route.maxBodySize),
    series: options.metrics?.enabled ? options.metrics.route(route.name) : undefined,
    websocket: compileWebSocket(route.websocket),
    admission: compileAdmission(
      route,
      route.upstream !== undefined ? [upstreams.get(route.upstream)!] : route.upstreams!.map((u) => upstreams.get(u.name)!),
      options.resilience,
      config.overload !== undefined,
    ),
  };
}

/** Build a Snapshot from a validated config (defaults applied). Work done here is not done per request. */
export async function compileSnapshot(config: SluiceConfig, options: CompileOptions): Promise<Snapshot> {
  const upstreams = new Map<string, Upstream>();
  for (const u of config.upstreams ?? []) {
    const upstream = new Upstream(u, options.pools, options.health);
    if (options.metrics?.enabled) upstream.series = options.metrics.upstream(u.name);
    upstream.resilience = options.resilience?.bind(upstream, u.circuitBreaker, u.limits);
    upstreams.set(u.name, upstream);
  }
  const chains: PluginChain[] = [];
  try {
    const globalChain = await chainFor(config.plugins?.global ?? {}, options, 'global', undefined);
    chains.push(globalChain);
    const perListener = new Map<string, RouteEntry<CompiledRoute>[]>(config.listeners.map((l) => [l.name, []]));
    const routes = config.routes ?? [];
    for (let index = 0; index < routes.length; index++) {
      const route = routes[index]!;
      const compiled = await compileRoute(route, config, upstreams, options);
      chains.push(compiled.chain);
      for (const listener of route.listeners ?? [...perListener.keys()]) {
        perListener.get(listener)?.push({ config: route, index, value: compiled });
      }
    }
    const tables = new Map<string, RouteTable<CompiledRoute>>();
    for (const [name, entries] of perListener) tables.set(name, compileRouteTable(entries));
    const proxy = config.proxy ?? {};
    const close = async () => {
      await Promise.allSettled(chains.map((c) => c.close()));
      await Promise.allSettled([...upstreams.values()].flatMap((u) => u.poolKeys().map((k) => options.pools.release(k))));
    };
    const settings = { via: proxy.via ?? false, forwarded: proxy.forwarded ?? false, xForwarded: proxy.xForwarded ?? true };
    return new Snapshot(options.version, config, tables, upstreams, globalChain, settings, close);
  } catch (error) {
    // A failed compile must not leak pools or plugin resources it already took.
    await Promise.allSettled(chains.map((c) => c.close()));
    for (const u of upstreams.values()) for (const k of u.poolKeys()) void options.pools.release(k);
    throw error;
  }
}
