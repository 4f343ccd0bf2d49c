import type { Static, TSchema } from '@sinclair/typebox';
import type { Transform } from 'node:stream';
import type { Logger } from 'pino';
import type { GatewayError } from '../errors/index.ts';
import type { DirectResponse, RequestContext, UpstreamRequest, UpstreamResponse } from '../runtime/context.ts';

export type PluginScope = 'global' | 'route' | 'consumer';

/** What a plugin instance gets from the gateway when it is created. */
export interface PluginEnv {
  readonly scope: PluginScope;
  /** Route name for route-scoped instances. */
  readonly route: string | undefined;
  readonly logger: Logger;
  /** Declare Prometheus metrics, served with the gateway's at /metrics (see PluginMetrics). */
  readonly metrics: PluginMetrics;
}

export interface PluginMetricSpec<L extends string> {
  /** Snake-case suffix: the full name is `sluice_plugin_<plugin>_<name>` (counters must end in `_total`). */
  name: string;
  help: string;
  labelNames?: readonly L[];
  /** Label combinations kept at most; later ones share one "__overflow__" series. Default 1000. */
  maxSeries?: number;
}

/**
 * Custom metrics for a plugin. Declaring the same name again (every config reload creates the
 * instances anew) returns the same metric, so counts carry over; a different type or label set
 * for an existing name throws. Bind label values once in create() and keep the child: `labels()`
 * is the lookup, the child's inc/observe is a plain addition.
 */
export interface PluginMetrics {
  counter<L extends string = never>(spec: PluginMetricSpec<L>): PluginCounter<L>;
  gauge<L extends string = never>(spec: PluginMetricSpec<L>): PluginGauge<L>;
  histogram<L extends string = never>(spec: PluginMetricSpec<L> & { buckets?: readonly number[] }): PluginHistogram<L>;
}
export interface CounterHandle {
  inc(by?: number): void;
}
export interface GaugeHandle {
  set(value: number): void;
  inc(by?: number): void;
  dec(by?: number): void;
}
export interface HistogramHandle {
  observe(value: number): void;
}
/** Without labels, use the metric directly; with labels, bind them with `labels({...})`. */
export interface PluginCounter<L extends string> extends CounterHandle {
  labels(values: Record<L, string>): CounterHandle;
}
export interface PluginGauge<L extends string> extends GaugeHandle {
  labels(values: Record<L, string>): GaugeHandle;
}
export interface PluginHistogram<L extends string> extends HistogramHandle {
  labels(values: Record<L, string>): HistogramHandle;
}

export type MaybePromise<T> = T | Promise<T>;

export interface PluginInstance {
  onRequest?(ctx: RequestContext): MaybePromise<void | DirectResponse>;
  onUpstreamRequest?(ctx: RequestContext, req: UpstreamRequest): MaybePromise<void>;
  onResponse?(ctx: RequestContext, res: UpstreamResponse): MaybePromise<void>;
  /** Opt-in streaming transform of the response body. */
  onResponseBody?(ctx: RequestContext): Transform | undefined;
  /** Always runs once the exchange is over; must not throw (errors are logged and swallowed). */
  onLog?(ctx: RequestContext, error?: GatewayError): void;
  /** The snapshot this instance belongs to was retired and drained. */
  close?(): Promise<void>;
}

export interface PluginDefinition<S extends TSchema = TSchema> {
  /** kebab-case; the config key and folder name. */
  name: string;
  /** Higher runs first: 10000+ network/security, 2000s auth, 1000s traffic control, 0–999 transforms, < 0 observability. */
  priority: number;
  /** Config schema: type, validation and docs from one definition. */
  schema: S;
  /** Short description for the generated reference. */
  description?: string;
  /** Called once per route (or scope) per snapshot. */
  create(config: Static<S>, env: PluginEnv): MaybePromise<PluginInstance>;
}

/** Identity helper that keeps the schema's static type flowing into `create`. */
export function definePlugin<S extends TSchema>(definition: PluginDefinition<S>): PluginDefinition<S> {
  return definition;
}

/**
 * Throw from `create()` when a config passes the schema but is still unusable (a hop-by-hop header,
 * an unknown template variable). `path` is relative to the plugin's config (`set.connection`); the
 * chain compiler prefixes the plugin's own config path, so the user sees the exact location.
 */
export class PluginConfigError extends Error {
  override readonly name = 'PluginConfigError';
  readonly path: string;
  constructor(path: string, message: string) {
    super(message);
    this.path = path;
  }
}
