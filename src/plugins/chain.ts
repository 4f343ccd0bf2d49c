import type { Transform } from 'node:stream';
import type { Logger } from 'pino';
import { GatewayError } from '../errors/index.ts';
import type { DirectResponse, RequestContext, UpstreamRequest, UpstreamResponse } from '../runtime/context.ts';
import type { PluginEntry } from './registry.ts';
import { PluginMetricsRegistry } from '../observability/plugin-metrics.ts';
import { PluginConfigError, type MaybePromise, type PluginEnv, type PluginInstance } from './types.ts';
import { validatePluginConfig } from './validate.ts';

/**
 * A compiled, immutable plugin chain for one route (or scope) in one snapshot. Each phase has its
 * own dense array holding only the instances that implement it, pre-sorted (priority desc, name
 * asc), so a runner never tests for a missing hook and never sorts.
 */
export interface PluginChain {
  /** Plugin names in run order. */
  readonly names: readonly string[];
  readonly instances: readonly PluginInstance[];
  readonly onRequest: readonly PluginInstance[];
  readonly onUpstreamRequest: readonly PluginInstance[];
  readonly onResponse: readonly PluginInstance[];
  readonly onResponseBody: readonly PluginInstance[];
  readonly onLog: readonly PluginInstance[];
  /** The plugin name of an instance of this chain (for error reports). */
  nameOf(instance: PluginInstance): string | undefined;
  /** Close every instance (errors are logged, never thrown). Idempotent. */
  close(): Promise<void>;
}

/**
 * Merge plugin maps of several scopes (global, route, consumer — later wins). A later scope's
 * config for a plugin REPLACES the earlier one whole (no deep merge: a route that configures
 * `cors` states its complete cors config). A value of `false` removes the plugin for that scope.
 */
export function mergePluginScopes(...scopes: Array<Record<string, unknown> | undefined>): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const scope of scopes) {
    if (scope === undefined) continue;
    for (const [name, config] of Object.entries(scope)) {
      if (config === false) delete merged[name];
      else merged[name] = config;
    }
  }
  return merged;
}

/**
 * Validate every entry's config (defaults applied), create the instances, and index them by
 * phase. All config problems are reported at once; if any create() fails, the instances already
 * built are closed and a SLUICE_ERR_CONFIG_INVALID naming the config path is thrown.
 */
/** What the chain compiler needs to build each plugin's PluginEnv. */
export interface ChainEnv {
  readonly scope: PluginEnv['scope'];
  readonly route: string | undefined;
  readonly logger: PluginEnv['logger'];
  /** Where plugin metrics are registered; absent (unit tests) → a private registry nobody serves. */
  readonly metricsRegistry?: PluginMetricsRegistry | undefined;
}

export async function compilePluginChain(entries: readonly PluginEntry[], env: ChainEnv): Promise<PluginChain> {
  const sorted = [...entries].sort(
    (a, b) => b.definition.priority - a.definition.priority || compareNames(a.definition.name, b.definition.name),
  );
  const configs = validateEntries(sorted);
  const loggers = sorted.map((e) => env.logger.child({ plugin: e.definition.name }));
  const metricsSource = env.metricsRegistry ?? new PluginMetricsRegistry();
  const settled = await Promise.allSettled(
    sorted.map(async (e, i) =>
      e.definition.create(configs[i] as never, { scope: env.scope, route: env.route, logger: loggers[i]!, metrics: metricsSource.forPlugin(e.definition.name) }),
    ),
  );
  const instances: PluginInstance[] = [];
  const failures: string[] = [];
  let firstCause: unknown;
  settled.forEach((result, i) => {
    if (result.status === 'fulfilled') instances.push(result.value);
    else {
      failures.push(describeCreateFailure(entryPath(sorted[i]!), result.reason));
      firstCause ??= result.reason;
    }
  });
  if (failures.length > 0) {
    await closeAll(instances, loggers);
    throw new GatewayError('SLUICE_ERR_CONFIG_INVALID', { detail: failures.join('\n'), cause: firstCause });
  }
  return buildChain(sorted.map((e) => e.definition.name), instances, loggers);
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function entryPath(entry: PluginEntry): string {
  return entry.path ?? `plugins.${entry.definition.name}`;
}

function validateEntries(entries: readonly PluginEntry[]): unknown[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  const configs = entries.map((entry) => {
    const path = entryPath(entry);
    if (seen.has(entry.definition.name)) problems.push(`${path}: plugin "${entry.definition.name}" is listed twice`);
    seen.add(entry.definition.name);
    const { value, issues } = validatePluginConfig(entry.definition, entry.config, path);
    for (const issue of issues) problems.push(`${issue.path}: ${issue.message}`);
    return value;
  });
  if (problems.length > 0) throw new GatewayError('SLUICE_ERR_CONFIG_INVALID', { detail: problems.join('\n') });
  return configs;
}

function describeCreateFailure(path: string, reason: unknown): string {
  if (reason instanceof PluginConfigError) {
    const sub = reason.path === '' ? '' : reason.path.startsWith('[') ? reason.path : `.${reason.path}`;
    return `${path}${sub}: ${reason.message}`;
  }
  if (reason instanceof GatewayError) return `${path}: ${reason.detail ?? reason.message}`;
  return `${path}: plugin create() failed: ${reason instanceof Error ? reason.message : String(reason)}`;
}

function buildChain(names: string[], instances: PluginInstance[], loggers: Logger[]): PluginChain {
  const byInstance = new Map<PluginInstance, string>();
  instances.forEach((instance, i) => byInstance.set(instance, names[i]!));
  const having = (hook: keyof PluginInstance) => Object.freeze(instances.filter((i) => typeof i[hook] === 'function'));
  let closing: Promise<void> | undefined;
  return Object.freeze({
    names: Object.freeze(names),
    instances: Object.freeze(instances),
    onRequest: having('onRequest'),
    onUpstreamRequest: having('onUpstreamRequest'),
    onResponse: having('onResponse'),
    onResponseBody: having('onResponseBody'),
    onLog: having('onLog'),
    nameOf: (instance: PluginInstance) => byInstance.get(instance),
    close: () => (closing ??= closeAll(instances, loggers)),
  });
}

async function closeAll(instances: readonly PluginInstance[], loggers: readonly Logger[]): Promise<void> {
  await Promise.all(
    instances.map(async (instance, i) => {
      try {
        await instance.close?.();
      } catch (err) {
        loggers[i]?.error({ err }, 'plugin close() failed');
      }
    }),
  );
}

/** A chain with no plugins, for routes that have none. */
export const EMPTY_CHAIN: PluginChain = buildChain([], [], []);

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value instanceof Promise || (typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function');
}

/**
 * Run onRequest hooks in order until one answers. Synchronous while every hook returns
 * synchronously (no promise is allocated for an all-sync chain); from the first hook that returns a
 * thenable on, the rest run in an async continuation. Errors thrown by hooks propagate.
 */
export function runOnRequest(chain: PluginChain, ctx: RequestContext): MaybePromise<void | DirectResponse> {
  const list = chain.onRequest;
  for (let i = 0; i < list.length; i++) {
    const result = list[i]!.onRequest!(ctx);
    if (result == null) continue;
    if (isThenable(result)) return continueOnRequest(list, i, ctx, result);
    return result;
  }
  return undefined;
}

async function continueOnRequest(
  list: readonly PluginInstance[],
  index: number,
  ctx: RequestContext,
  pending: PromiseLike<void | DirectResponse>,
): Promise<void | DirectResponse> {
  const first = await pending;
  if (first != null) return first;
  for (let i = index + 1; i < list.length; i++) {
    let result = list[i]!.onRequest!(ctx);
    if (isThenable(result)) result = await result;
    if (result != null) return result;
  }
  return undefined;
}

/** onUpstreamRequest hooks in order; sync unless a hook returns a thenable. */
export function runOnUpstreamRequest(chain: PluginChain, ctx: RequestContext, req: UpstreamRequest): MaybePromise<void> {
  const list = chain.onUpstreamRequest;
  for (let i = 0; i < list.length; i++) {
    const result = list[i]!.onUpstreamRequest!(ctx, req);
    if (isThenable(result)) return continueUpstreamRequest(list, i, ctx, req, result);
  }
}

async function continueUpstreamRequest(
  list: readonly PluginInstance[],
  index: number,
  ctx: RequestContext,
  req: UpstreamRequest,
  pending: PromiseLike<void>,
): Promise<void> {
  await pending;
  for (let i = index + 1; i < list.length; i++) {
    const result = list[i]!.onUpstreamRequest!(ctx, req);
    if (isThenable(result)) await result;
  }
}

/** onResponse hooks in order; sync unless a hook returns a thenable. */
export function runOnResponse(chain: PluginChain, ctx: RequestContext, res: UpstreamResponse): MaybePromise<void> {
  const list = chain.onResponse;
  for (let i = 0; i < list.length; i++) {
    const result = list[i]!.onResponse!(ctx, res);
    if (isThenable(result)) return continueResponse(list, i, ctx, res, result);
  }
}

async function continueResponse(
  list: readonly PluginInstance[],
  index: number,
  ctx: RequestContext,
  res: UpstreamResponse,
  pending: PromiseLike<void>,
): Promise<void> {
  await pending;
  for (let i = index + 1; i < list.length; i++) {
    const result = list[i]!.onResponse!(ctx, res);
    if (isThenable(result)) await result;
  }
}

/** The body transforms plugins want for this response, in chain order (pipe them in this order). */
export function collectBodyTransforms(chain: PluginChain, ctx: RequestContext): Transform[] {
  const list = chain.onResponseBody;
  const out: Transform[] = [];
  for (let i = 0; i < list.length; i++) {
    const transform = list[i]!.onResponseBody!(ctx);
    if (transform !== undefined) out.push(transform);
  }
  return out;
}

/**
 * onLog hooks in order. Never throws: a hook's error (or a rejected promise from a hook that
 * wrongly returns one) is logged with the plugin name and the next hook still runs.
 */
export function runOnLog(chain: PluginChain, ctx: RequestContext, error: GatewayError | undefined, logger: Logger): void {
  const list = chain.onLog;
  for (let i = 0; i < list.length; i++) {
    const instance = list[i]!;
    try {
      const result: unknown = instance.onLog!(ctx, error);
      if (isThenable(result)) result.then(undefined, (err: unknown) => logOnLogFailure(chain, instance, ctx, err, logger));
    } catch (err) {
      logOnLogFailure(chain, instance, ctx, err, logger);
    }
  }
}

function logOnLogFailure(chain: PluginChain, instance: PluginInstance, ctx: RequestContext, err: unknown, logger: Logger): void {
  try {
    logger.error({ err, plugin: chain.nameOf(instance), requestId: ctx.id }, 'plugin onLog failed');
  } catch {
    // a failing logger must not break the response path either
  }
}
