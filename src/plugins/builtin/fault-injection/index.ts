import { parseDuration } from '../../../config/units.ts';
import { GatewayError } from '../../../errors/index.ts';
import type { DirectResponse, RequestContext } from '../../../runtime/context.ts';
import { definePlugin, type GaugeHandle, type PluginEnv, type PluginInstance } from '../../types.ts';
import { FaultInjectionSchema, type FaultInjectionConfig } from './schema.ts';

/**
 * fault-injection: operators' own chaos testing, modelled on Envoy's HTTP fault filter. A
 * percentage of requests is held (delay) and/or answered with an error status (abort) before it
 * is forwarded; with `headers: true` a trusted caller can ask for a fault per request. A delay is
 * a timer, never a busy wait, and ends early when the client goes away.
 */

export const FAULT_HEADERS = {
  abort: 'x-sluice-fault-abort',
  abortPercentage: 'x-sluice-fault-abort-percentage',
  delay: 'x-sluice-fault-delay',
  delayPercentage: 'x-sluice-fault-delay-percentage',
} as const;
const HEADER_NAMES = Object.values(FAULT_HEADERS);

/** A number in [0, 1), as Math.random; tests pass a deterministic one. */
export type RandomSource = () => number;

interface Fault {
  /** Delay in ms, or abort status. */
  value: number;
  percentage: number;
  /** Abort only: sent as is instead of the problem document. */
  body?: string | undefined;
}

function single(headers: RequestContext['headers'], name: string): string | undefined {
  const v = headers[name];
  return typeof v === 'string' ? v.trim() : undefined;
}

/** A header-requested fault; malformed or out-of-range values are ignored (no fault), as Envoy does. */
function headerFault(ctx: RequestContext, name: string, pctName: string, valid: (n: number) => boolean, cap: number): Fault | undefined {
  const raw = single(ctx.headers, name);
  if (raw === undefined || !/^\d{1,9}$/.test(raw)) return undefined;
  const value = Number(raw);
  if (!valid(value)) return undefined;
  const pctRaw = single(ctx.headers, pctName);
  const pct = pctRaw === undefined || pctRaw === '' ? 100 : Number(pctRaw);
  if (!Number.isFinite(pct) || pct < 0 || pct > 100) return undefined;
  return { value: Math.min(value, cap), percentage: pct };
}

const isStatus = (n: number) => n >= 400 && n <= 599;

/** Wait `ms` or until the client closes the connection, whichever comes first. */
function hold(ctx: RequestContext, ms: number, active: GaugeHandle): Promise<void> {
  const res = ctx.res;
  if (res.destroyed) return Promise.resolve();
  active.inc();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.off('close', done);
      active.dec();
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.once('close', done);
  });
}

/** The plugin instance with an injectable random source (create() uses Math.random). */
export function createFaultInjection(config: FaultInjectionConfig, env: PluginEnv, random: RandomSource = Math.random): PluginInstance {
  const configured = {
    abort: config.abort === undefined ? undefined : { value: config.abort.status, percentage: config.abort.percentage ?? 100, body: config.abort.body },
    delay: config.delay === undefined ? undefined : { value: parseDuration(config.delay.duration), percentage: config.delay.percentage ?? 100 },
  };
  const headers = config.headers === true;
  const maxHeaderDelay = parseDuration(config.maxHeaderDelay ?? '10s');
  const scope = env.route ?? env.scope;
  const injected = env.metrics.counter({
    name: 'injected_total',
    help: 'Faults injected by the fault-injection plugin, by route (or scope) and fault (abort, delay)',
    labelNames: ['route', 'fault'],
  });
  const aborts = injected.labels({ route: scope, fault: 'abort' });
  const delays = injected.labels({ route: scope, fault: 'delay' });
  const active = env.metrics.gauge({ name: 'active_delays', help: 'Requests being held by an injected delay now' });
  // percentage 100 always hits (random() < 1); 0 never does.
  const hits = (f: Fault | undefined): f is Fault => f !== undefined && f.percentage > 0 && random() * 100 < f.percentage;

  const abort = ({ value: status, body }: Fault): DirectResponse => {
    aborts.inc();
    if (body !== undefined) return { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }, body };
    throw new GatewayError('SLUICE_ERR_FAULT_INJECTED', { status, detail: `fault injected: ${status}`, expose: true });
  };

  return {
    onRequest(ctx) {
      const delay = (headers ? headerFault(ctx, FAULT_HEADERS.delay, FAULT_HEADERS.delayPercentage, () => true, maxHeaderDelay) : undefined) ?? configured.delay;
      const failure = (headers ? headerFault(ctx, FAULT_HEADERS.abort, FAULT_HEADERS.abortPercentage, isStatus, 599) : undefined) ?? configured.abort;
      // Both are decided up front, independently (Envoy's order: delay, then abort).
      const aborting = hits(failure);
      if (hits(delay) && delay.value > 0) {
        delays.inc();
        return hold(ctx, delay.value, active).then(() => {
          // A client that left during the delay gets nothing (the pipeline checks res.destroyed).
          if (aborting && !ctx.res.destroyed) return abort(failure);
        });
      }
      if (aborting) return abort(failure);
    },
    // Header faults apply at this hop only: a gateway behind us must not inject them again.
    onUpstreamRequest: headers
      ? (_ctx, req) => {
          for (const name of HEADER_NAMES) req.headers.delete(name);
        }
      : undefined,
  };
}

export const faultInjectionPlugin = definePlugin({
  name: 'fault-injection',
  // After authentication (2000s): only callers that got in see faults; before traffic control.
  priority: 1900,
  description: 'Chaos testing: aborts (error status) or delays a percentage of requests, or on x-sluice-fault-* headers when enabled.',
  schema: FaultInjectionSchema,
  create: (config, env) => createFaultInjection(config, env),
});
