import type { UpstreamConfig } from '../config/schema/index.ts';
import { parseDuration } from '../config/units.ts';
import type { UpstreamSeries } from '../observability/request-metrics.ts';
import type { PoolOptions, TargetPool, UpstreamTlsOptions } from '../proxy/client/types.ts';
import type { TargetInfo } from '../runtime/context.ts';
import type { OutcomeObserver } from './outcome.ts';
import { createBalancer } from './balancer/index.ts';
import { compileHashKey, type HashKeyExtractor } from './balancer/hash-key.ts';
import type { Balancer, BalancerTarget } from './balancer/types.ts';
import type { PoolCache } from './pool-cache.ts';
import type { HealthRegistry, TargetState } from './target-state.ts';
import type { UpstreamGuard } from './resilience/guards.ts';

/** One target of an upstream: its address, its balancer state and its connection pool. */
export class Target implements BalancerTarget {
  readonly id: string;
  readonly weight: number;
  inflight = 0;
  available = true;
  /** Told how every attempt on this target ended (outlier detection, circuit breakers). */
  readonly observers: OutcomeObserver[] = [];
  /** Its long-lived health state (checks, ejection, override), which writes `available`. */
  health: TargetState | undefined;
  /** Path prefix of the target URL ('' when none), prepended to every upstream path. */
  readonly basePath: string;
  /** host:port as sent in Host when the upstream uses `hostHeader: target`. */
  readonly authority: string;
  /** What the request context shows of this target (one object for all its requests). */
  readonly info: TargetInfo;
  /** How the pool connects (timeout, TLS): WebSocket tunnels open their own sockets the same way. */
  connectOptions: PoolOptions | undefined;

  constructor(
    readonly url: URL,
    weight: number,
    readonly pool: TargetPool,
    readonly poolKey: string,
    upstream: string,
  ) {
    this.id = url.href;
    this.info = Object.freeze({ upstream, url: url.href });
    this.weight = weight;
    this.basePath = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
    this.authority = url.host;
  }
}

export interface HashInput {
  clientIp: string;
  path: string;
  query: string;
  headers: Record<string, string | string[] | undefined>;
}

/** A named set of targets with its balancer and timeouts; immutable for a snapshot's life. */
export class Upstream {
  readonly name: string;
  readonly targets: readonly Target[];
  readonly responseTimeoutMs: number;
  readonly bodyIdleTimeoutMs: number;
  readonly preserveHost: boolean;
  /** Metric series bound at compile time (undefined when metrics are off). */
  series: UpstreamSeries | undefined;
  /** Circuit breakers and concurrency limit (long-lived, shared across snapshots); undefined when none configured. */
  resilience: UpstreamGuard | undefined;
  readonly #balancer: Balancer<Target>;
  readonly #hashKey: HashKeyExtractor | undefined;

  /** `health`: the gateway's long-lived target states; the targets subscribe to theirs (outcomes in, `available` out). */
  constructor(config: UpstreamConfig, pools: PoolCache, health?: HealthRegistry) {
    this.name = config.name;
    const balancer = config.balancer ?? { algorithm: 'round-robin' as const };
    const timeouts = config.timeouts ?? {};
    const connectTimeoutMs = parseDuration(timeouts.connect ?? '5s');
    this.responseTimeoutMs = parseDuration(timeouts.response ?? '60s');
    this.bodyIdleTimeoutMs = parseDuration(timeouts.bodyIdle ?? '60s');
    this.preserveHost = (config.hostHeader ?? 'preserve') === 'preserve';
    const tls = upstreamTlsOptions(config.tls);
    this.targets = config.targets.map((t) => {
      const origin = new URL(t.url);
      const h2c = origin.protocol === 'h2c:';
      const http2 = h2c || config.protocol === 'http2';
      // Pools connect to http:/https: origins; h2c: only says "HTTP/2 cleartext".
      const poolOrigin = h2c ? new URL(`http://${origin.host}`) : origin;
      const options: PoolOptions = {
        origin: poolOrigin,
        connections: config.pool?.connections ?? 128,
        keepAliveMs: parseDuration(config.pool?.keepAlive ?? '4s'),
        connectTimeoutMs,
        ...(http2 && config.pool?.ping !== undefined ? { pingIntervalMs: parseDuration(config.pool.ping) } : {}),
        ...(origin.protocol === 'https:' ? { tls } : {}),
      };
      const { key, pool } = pools.acquire(options, http2 ? 'h2' : (config.pool?.client ?? 'native'));
      const target = new Target(origin, t.weight ?? 1, pool, key, config.name);
      target.connectOptions = options;
      return target;
    });
    health?.bind(config, this.targets);
    this.#balancer = createBalancer(this.targets, balancer);
    this.#hashKey = compileHashKey(balancer.hashOn, balancer.algorithm);
  }

  pick(input: HashInput, exclude?: Target): Target | undefined {
    const key = this.#hashKey === undefined ? undefined : this.#hashKey(input);
    return this.#balancer.pick(key, exclude);
  }

  /** Pool keys this upstream holds, for release when its snapshot retires. */
  poolKeys(): string[] {
    return this.targets.map((t) => t.poolKey);
  }
}

/** Upstream `tls` with its secrets (already resolved to PEM text) as plain strings. */
function upstreamTlsOptions(t: UpstreamConfig['tls']): UpstreamTlsOptions {
  if (t === undefined) return {};
  const text = (v: unknown) => (v === undefined ? undefined : String(v));
  const out: UpstreamTlsOptions = {};
  if (t.rejectUnauthorized !== undefined) out.rejectUnauthorized = t.rejectUnauthorized;
  if (t.servername !== undefined) out.servername = t.servername;
  if (t.minVersion !== undefined) out.minVersion = t.minVersion;
  const ca = text(t.ca);
  const cert = text(t.cert);
  const key = text(t.key);
  if (ca !== undefined) out.ca = ca;
  if (cert !== undefined && key !== undefined) {
    out.cert = cert;
    out.key = key;
  }
  return out;
}
