import type { GatewayError } from '../errors/index.ts';
import type { RequestContext } from '../runtime/context.ts';
import { DEFAULT_LATENCY_BUCKETS, type MetricsConfig } from '../config/schema/observability.ts';
import { CounterFamily, GaugeFamily, HistogramFamily, OVERFLOW, type CounterChild, type GaugeChild, type HistogramChild } from './prom/families.ts';
import type { RequestSummary } from './summary.ts';
import { RETRY_REASONS, type RetryReason } from '../upstream/retry.ts';

/**
 * Per-request Prometheus series and the admin summary, fed by one record() per request.
 *
 * Label children are bound when a config is compiled: each compiled route holds its RouteSeries and
 * each upstream its UpstreamSeries, so a request only indexes arrays and adds numbers. Series are
 * keyed by route/upstream *name* and outlive config versions (counters never reset on reload);
 * names past `maxRouteLabels` share the "__overflow__" series, so cardinality is bounded whatever
 * the admin API registers.
 */

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'OTHER'] as const;
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const OTHER_METHOD = 7;

function methodIndex(method: string): number {
  switch (method) {
    case 'GET':
      return 0;
    case 'HEAD':
      return 1;
    case 'POST':
      return 2;
    case 'PUT':
      return 3;
    case 'DELETE':
      return 4;
    case 'PATCH':
      return 5;
    case 'OPTIONS':
      return 6;
    default:
      return OTHER_METHOD;
  }
}

function classIndex(status: number): number {
  const c = ((status / 100) | 0) - 1;
  return c < 0 ? 0 : c > 4 ? 4 : c;
}

/** Upstream failure kinds, from the gateway's stable error codes. */
export const UPSTREAM_ERROR_KINDS = ['connect', 'connect_timeout', 'timeout', 'reset', 'bad_response', 'no_target'] as const;
const KIND_OF_CODE: Record<string, number> = {
  SLUICE_ERR_UPSTREAM_CONNECT: 0,
  SLUICE_ERR_UPSTREAM_CONNECT_TIMEOUT: 1,
  SLUICE_ERR_UPSTREAM_TIMEOUT: 2,
  SLUICE_ERR_UPSTREAM_RESET: 3,
  SLUICE_ERR_UPSTREAM_BAD_RESPONSE: 4,
  SLUICE_ERR_NO_HEALTHY_TARGET: 5,
  SLUICE_ERR_NO_HEALTHY_UPSTREAM: 5,
};

/** Label value for requests that matched no route (404/405 and malformed requests). */
export const UNMATCHED = '__unmatched__';

export class RouteSeries {
  /** [method × class] → counter child, created on first use (most routes see few methods). */
  readonly #requests: Array<CounterChild | undefined> = new Array(METHODS.length * CLASSES.length);
  constructor(
    readonly name: string,
    private readonly family: CounterFamily,
    readonly duration: HistogramChild,
    readonly requestBytes: CounterChild,
    readonly responseBytes: CounterChild,
    private readonly wsFamilies?: { open: GaugeFamily; upgrades: CounterFamily },
  ) {}

  #wsOpen: GaugeChild | undefined;
  #wsUpgrades: CounterChild | undefined;

  /** A WebSocket tunnel of this route opened (+1) or closed (-1); children made on first use. */
  websocket(delta: 1 | -1): void {
    const f = this.wsFamilies;
    if (f === undefined) return;
    (this.#wsOpen ??= f.open.child(this.name)).value += delta;
    if (delta === 1) (this.#wsUpgrades ??= f.upgrades.child(this.name)).value++;
  }

  countRequest(method: string, status: number): void {
    const m = methodIndex(method);
    const c = classIndex(status);
    const slot = m * CLASSES.length + c;
    const child = this.#requests[slot] ?? (this.#requests[slot] = this.family.child(this.name, METHODS[m]!, CLASSES[c]!));
    child.value++;
  }
}

export class UpstreamSeries {
  readonly #responses: Array<CounterChild | undefined> = new Array(CLASSES.length);
  readonly #errors: Array<CounterChild | undefined> = new Array(UPSTREAM_ERROR_KINDS.length);
  constructor(
    readonly name: string,
    private readonly responsesFamily: CounterFamily,
    private readonly errorsFamily: CounterFamily,
    /** Time from sending the request to the upstream's response head. */
    readonly latency: HistogramChild,
    private readonly retriesFamily?: CounterFamily,
    private readonly budgetExhausted?: CounterChild,
  ) {}

  readonly #retries: Array<CounterChild | undefined> = new Array(RETRY_REASONS.length);

  /** A retry was started for `reason`. */
  retry(reason: RetryReason): void {
    const family = this.retriesFamily;
    if (family === undefined) return;
    const i = RETRY_REASONS.indexOf(reason);
    (this.#retries[i] ??= family.child(this.name, reason)).value++;
  }

  /** A retry was wanted but the upstream's retry budget was spent. */
  retryBudgetExhausted(): void {
    if (this.budgetExhausted !== undefined) this.budgetExhausted.value++;
  }

  response(status: number, seconds: number): void {
    const c = classIndex(status);
    (this.#responses[c] ??= this.responsesFamily.child(this.name, CLASSES[c]!)).value++;
    this.latency.observe(seconds);
  }

  /** An upstream failure; errors that are not upstream failures (client abort, plugin) are ignored. */
  error(error: GatewayError): void {
    const kind = KIND_OF_CODE[error.code];
    if (kind === undefined) return;
    (this.#errors[kind] ??= this.errorsFamily.child(this.name, UPSTREAM_ERROR_KINDS[kind]!)).value++;
  }
}

export interface TargetView {
  upstream: string;
  target: string;
  available: boolean;
  inflight: number;
  open: number;
  idle: number;
  queued: number;
  connects: number;
  retries: number;
}

export interface RequestMetricsOptions {
  summary: RequestSummary;
  /** Targets of the config in force, read at scrape time. */
  targets?: () => Iterable<TargetView>;
}

export class RequestMetrics {
  readonly summary: RequestSummary;
  /** Requests received and not yet finished in this process. */
  inflight = 0;
  #enabled = true;
  #maxRouteLabels = 1000;
  #maxTargetLabels = 1000;
  #buckets: readonly number[] = DEFAULT_LATENCY_BUCKETS;
  /** By name; names past the label cap map to the shared overflow series. */
  readonly #routes = new Map<string, RouteSeries>();
  readonly #upstreams = new Map<string, UpstreamSeries>();
  #routeLabels = 0;
  #upstreamLabels = 0;
  #families!: ReturnType<RequestMetrics['createFamilies']>;
  readonly #targets: (() => Iterable<TargetView>) | undefined;
  #unmatched!: RouteSeries;
  /** Called when the families are replaced (new buckets): the registry swaps them. */
  onFamiliesChanged: (() => void) | undefined;

  constructor(options: RequestMetricsOptions) {
    this.summary = options.summary;
    this.#targets = options.targets;
    this.#reset();
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  /** Apply `observability.metrics`; changing the buckets starts the histograms afresh (a counter reset to Prometheus). */
  configure(config: MetricsConfig | undefined): void {
    this.#enabled = config?.enabled ?? true;
    this.#maxRouteLabels = config?.maxRouteLabels ?? 1000;
    this.#maxTargetLabels = config?.maxTargetLabels ?? 1000;
    const buckets = config?.latencyBuckets ?? DEFAULT_LATENCY_BUCKETS;
    if (buckets.join() !== this.#buckets.join()) {
      this.#buckets = buckets;
      this.#reset();
      this.onFamiliesChanged?.();
    }
  }

  private createFamilies() {
    const buckets = this.#buckets;
    const targets = this.#targets;
    const maxTargets = (): number => this.#maxTargetLabels;
    const labelNames = ['upstream', 'target'];
    // Target series are rebuilt from the config in force at each scrape (removed targets vanish).
    const fromTargets = (read: (t: TargetView) => number) => (family: GaugeFamily | CounterFamily) => {
      family.clear();
      if (targets === undefined) return;
      let n = 0;
      for (const t of targets()) {
        if (n++ >= maxTargets()) break;
        family.child(t.upstream, t.target).value = read(t);
      }
    };
    const targetGauge = (name: string, help: string, read: (t: TargetView) => number) =>
      new GaugeFamily({ name, help, labelNames, collect: fromTargets(read) });
    const targetCounter = (name: string, help: string, read: (t: TargetView) => number) =>
      new CounterFamily({ name, help, labelNames, collect: fromTargets(read) });
    return {
      requests: new CounterFamily({
        name: 'sluice_http_requests_total',
        help: 'Requests finished, by route, method and status class (route "__unmatched__": no route matched)',
        labelNames: ['route', 'method', 'status_class'],
      }),
      duration: new HistogramFamily({
        name: 'sluice_http_request_duration_seconds',
        help: 'Time from the request head to the end of the response, by route',
        labelNames: ['route'],
        buckets,
      }),
      requestBytes: new CounterFamily({ name: 'sluice_http_request_body_bytes_total', help: 'Request body bytes received, by route', labelNames: ['route'] }),
      responseBytes: new CounterFamily({ name: 'sluice_http_response_body_bytes_total', help: 'Response body bytes sent, by route', labelNames: ['route'] }),
      inflight: new GaugeFamily({
        name: 'sluice_http_requests_in_flight',
        help: 'Requests being served',
        collect: (family) => family.child().set(this.inflight),
      }),
      websocketOpen: new GaugeFamily({
        name: 'sluice_websocket_connections',
        help: 'WebSocket tunnels open now, by route (they outlive config reloads)',
        labelNames: ['route'],
      }),
      websocketUpgrades: new CounterFamily({
        name: 'sluice_websocket_upgrades_total',
        help: 'WebSocket upgrades proxied (upstream answered 101), by route',
        labelNames: ['route'],
      }),
      upstreamResponses: new CounterFamily({
        name: 'sluice_upstream_responses_total',
        help: 'Upstream responses received, by upstream and status class',
        labelNames: ['upstream', 'status_class'],
      }),
      upstreamLatency: new HistogramFamily({
        name: 'sluice_upstream_response_duration_seconds',
        help: 'Time from sending a request upstream to its response head, by upstream',
        labelNames: ['upstream'],
        buckets,
      }),
      upstreamErrors: new CounterFamily({
        name: 'sluice_upstream_errors_total',
        help: `Upstream failures by kind (${UPSTREAM_ERROR_KINDS.join(', ')})`,
        labelNames: ['upstream', 'kind'],
      }),
      upstreamRetries: new CounterFamily({
        name: 'sluice_upstream_retries_total',
        help: `Upstream retries started, by upstream and reason (${RETRY_REASONS.join(', ')})`,
        labelNames: ['upstream', 'reason'],
      }),
      upstreamRetryBudgetExhausted: new CounterFamily({
        name: 'sluice_upstream_retry_budget_exhausted_total',
        help: 'Retries not made because the upstream retry budget was spent, by upstream',
        labelNames: ['upstream'],
      }),
      targetUp: targetGauge('sluice_upstream_target_up', '1 when the target takes traffic, 0 when out of rotation (failed checks, ejected, forced down or drained)', (t) => (t.available ? 1 : 0)),
      targetInflight: targetGauge('sluice_upstream_target_in_flight', 'Requests in flight to the target', (t) => t.inflight),
      targetOpen: targetGauge('sluice_upstream_target_connections', 'Open connections to the target', (t) => t.open),
      targetIdle: targetGauge('sluice_upstream_target_idle_connections', 'Idle keep-alive connections to the target', (t) => t.idle),
      targetQueued: targetGauge('sluice_upstream_target_queued_requests', 'Requests waiting for a connection to the target', (t) => t.queued),
      targetConnects: targetCounter('sluice_upstream_target_connects_total', 'Connections opened to the target', (t) => t.connects),
      targetRetries: targetCounter(
        'sluice_upstream_target_retries_total',
        'Requests sent again on a fresh connection because a reused keep-alive connection was closed before any response byte',
        (t) => t.retries,
      ),
    };
  }

  #reset(): void {
    this.#families = this.createFamilies();
    this.#routes.clear();
    this.#upstreams.clear();
    this.#routeLabels = 0;
    this.#upstreamLabels = 0;
    this.#unmatched = this.route(UNMATCHED);
  }

  /** Every family, for registration in a prom-client Registry. */
  families(): Array<{ name: string }> {
    return Object.values(this.#families);
  }

  /** The series of a route (cold path: config compile). */
  route(name: string): RouteSeries {
    const found = this.#routes.get(name);
    if (found !== undefined) return found;
    // The unmatched series does not count against the cap.
    const label = name !== UNMATCHED && this.#routeLabels >= this.#maxRouteLabels ? OVERFLOW : name;
    if (label === name && name !== UNMATCHED) this.#routeLabels++;
    const f = this.#families;
    const series =
      this.#routes.get(label) ??
      new RouteSeries(label, f.requests, f.duration.child(label), f.requestBytes.child(label), f.responseBytes.child(label), {
        open: f.websocketOpen,
        upgrades: f.websocketUpgrades,
      });
    this.#routes.set(name, series);
    if (label !== name) this.#routes.set(label, series);
    return series;
  }

  /** The series of an upstream (cold path: config compile). */
  upstream(name: string): UpstreamSeries {
    const found = this.#upstreams.get(name);
    if (found !== undefined) return found;
    const label = this.#upstreamLabels >= this.#maxRouteLabels ? OVERFLOW : name;
    if (label === name) this.#upstreamLabels++;
    const f = this.#families;
    const series = this.#upstreams.get(label) ?? new UpstreamSeries(
        label,
        f.upstreamResponses,
        f.upstreamErrors,
        f.upstreamLatency.child(label),
        f.upstreamRetries,
        f.upstreamRetryBudgetExhausted.child(label),
      );
    this.#upstreams.set(name, series);
    if (label !== name) this.#upstreams.set(label, series);
    return series;
  }

  /** Hot path: once per finished request. `route` is the compiled route's series (undefined: unmatched). */
  record(ctx: RequestContext, route: RouteSeries | undefined, durationMs: number): void {
    const series = route ?? this.#unmatched;
    series.countRequest(ctx.method, ctx.status);
    series.duration.observe(durationMs / 1000);
    if (ctx.bytesReceived > 0) series.requestBytes.value += ctx.bytesReceived;
    if (ctx.bytesSent > 0) series.responseBytes.value += ctx.bytesSent;
    this.summary.record(ctx.route?.name, ctx.target?.upstream, ctx.status, durationMs);
  }
}
