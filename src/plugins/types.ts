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
