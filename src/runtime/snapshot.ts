import type { RouteSeries } from '../observability/request-metrics.ts';
import type { SluiceConfig } from '../config/schema/index.ts';
import type { PluginChain } from '../plugins/chain.ts';
import type { PathRewriter, RouteTable } from '../router/types.ts';
import type { RetryPolicy } from '../upstream/retry.ts';
import type { Upstream } from '../upstream/upstream.ts';
import type { AdmissionGate } from '../upstream/resilience/admission.ts';
import type { RouteInfo } from './context.ts';

/** A route compiled for the hot path: everything a request needs, resolved ahead of time. */
export interface CompiledRoute {
  readonly info: RouteInfo;
  readonly chain: PluginChain;
  readonly rewrite: PathRewriter | undefined;
  /** The upstream for this request (weighted choice when the route splits traffic). */
  pickUpstream(): Upstream;
  /** Route override of the upstream's Host policy; undefined → the upstream decides. */
  readonly preserveHost: boolean | undefined;
  readonly responseTimeoutMs: number | undefined;
  readonly bodyIdleTimeoutMs: number | undefined;
  /** Overall request deadline in ms (0: none), all attempts included. */
  readonly deadlineMs: number;
  readonly retry: RetryPolicy;
  /** Route override of the listener's body limit. */
  readonly maxBodySize: number | undefined;
  /** Metric series bound at compile time (undefined when metrics are off). */
  readonly series: RouteSeries | undefined;
  /** WebSocket tunnel policy; undefined when the route refuses upgrades (`websocket.enabled: false`). */
  readonly websocket: WebSocketPolicy | undefined;
  /** Breaker / concurrency-limit / shedding gate run at the start of forward(); undefined when nothing applies. */
  readonly admission: AdmissionGate | undefined;
}

export interface WebSocketPolicy {
  readonly idleTimeoutMs: number;
  readonly maxFrame: number;
  readonly maxMessage: number;
}

export interface ProxySettings {
  readonly via: boolean;
  readonly forwarded: boolean;
  readonly xForwarded: boolean;
}

/**
 * An immutable, compiled config. Requests take a reference for their whole life; a snapshot that
 * was swapped out is closed (pools released, plugin instances closed) once its last request ends.
 */
export class Snapshot {
  #refs = 0;
  #retired = false;
  #closed: Promise<void> | undefined;

  constructor(
    public version: number,
    readonly config: SluiceConfig,
    /** Route table per listener name. */
    readonly routeTables: ReadonlyMap<string, RouteTable<CompiledRoute>>,
    readonly upstreams: ReadonlyMap<string, Upstream>,
    /** Global plugins, run (onLog only) for requests that match no route. */
    readonly globalChain: PluginChain,
    readonly proxy: ProxySettings,
    private readonly onClose: () => Promise<void>,
  ) {}

  acquire(): void {
    this.#refs++;
  }

  release(): void {
    if (--this.#refs === 0 && this.#retired) void this.close();
  }

  get inflight(): number {
    return this.#refs;
  }

  /** Swapped out: close as soon as no request holds it. */
  retire(): Promise<void> {
    this.#retired = true;
    return this.#refs === 0 ? this.close() : new Promise((resolve) => this.#waiters.push(resolve));
  }

  readonly #waiters: Array<() => void> = [];

  close(): Promise<void> {
    this.#closed ??= this.onClose().finally(() => {
      for (const w of this.#waiters.splice(0)) w();
    });
    return this.#closed;
  }
}
