/**
 * Rolling request summary behind GET /admin/metrics/summary: per total, route and upstream, the last
 * 1 and 5 minutes of request counts, status classes, errors and latency percentiles.
 *
 * Time is cut into 10 s buckets held in a ring of 30 (5 min); the 1 m window is the newest 6. Each
 * slot remembers which bucket it holds, so a slot left over from an earlier lap is cleared lazily the
 * first time it is written again and ignored when read: no timers. Latency goes into a log-scale
 * histogram (relative error ≤ 2%, 0.01 ms to 60 s, 392 bins) per slot, preallocated per key, so
 * record() is O(1) and allocation-free once a key exists.
 *
 * Memory per key (total, each route, each upstream): 30 × 392 × 4 B histogram + 30 × 7 × 4 B counters
 * + 30 × 8 B bucket ids ≈ 48 KB; with the default maxKeys (2000) the worst case is ≈ 97 MB. Keys idle
 * for 5 minutes are dropped on snapshot() and when the limit is reached. Counts and histograms add
 * up exactly, so workers' exportState() results merge without loss (merge()).
 */

const BUCKET_MS = 10_000;
const SLOTS = 30;
const SLOTS_1M = 6;
const OTHER = '(other)';

// Counter fields per slot: requests, errors, client aborts, then 2xx..5xx.
const [F_REQ, F_ERR, F_ABORT, F_CLASS, FIELDS] = [0, 1, 2, 3, 7] as const;

// Log buckets: bin i ≥ 1 holds (MIN·γ^(i−1), MIN·γ^i]; its midpoint-in-ratio is within ALPHA of any value in it.
const ALPHA = 0.02;
const MIN_MS = 0.01;
const MAX_MS = 60_000;
const GAMMA = (1 + ALPHA) / (1 - ALPHA);
const LN_GAMMA = Math.log(GAMMA);
const LN_MIN = Math.log(MIN_MS);
export const BINS = Math.ceil(Math.log(MAX_MS / MIN_MS) / LN_GAMMA) + 1;
const BIN_VALUE = Float64Array.from({ length: BINS }, (_, i) => (i === 0 ? MIN_MS : (MIN_MS * 2 * GAMMA ** i) / (GAMMA + 1)));

/** Histogram bin of a duration; ≤ 0.01 ms (and NaN) → 0, ≥ 60 s → the last bin. */
export function binOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  const i = Math.ceil((Math.log(ms) - LN_MIN) / LN_GAMMA);
  return i < BINS ? i : BINS - 1;
}

type StatusClass = '2xx' | '3xx' | '4xx' | '5xx';

export interface WindowStats {
  requests: number;
  ratePerSec: number;
  /** Status ≥ 500 (gateway-generated upstream failures included) or no status at all (< 100). */
  errors: number;
  /** Status 499: the client went away first. Also counted in 4xx, not in errors. */
  clientAborts: number;
  /** errors / requests, 0..1. */
  errorRate: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  /** 1xx (upgrades) and status-less requests are in `requests` but in no class. */
  status: Record<StatusClass, number>;
}
export type WindowPair = Record<'1m' | '5m', WindowStats>;
export interface TopEntry {
  route: string;
  requests: number;
  ratePerSec: number;
  errors: number;
  errorRate: number;
  p99Ms: number | null;
}
export interface SummarySnapshot {
  generatedAt: string;
  windows: ['1m', '5m'];
  total: WindowPair;
  routes: Record<string, WindowPair>;
  upstreams: Record<string, WindowPair>;
  /** Busiest and most failing routes over the last minute (at most TOP_N each; routes with no errors are not listed by errors). */
  top: { byTraffic: TopEntry[]; byErrors: TopEntry[] };
}

const TOP_N = 10;

function topOf(routes: Record<string, WindowPair>): SummarySnapshot['top'] {
  const entries: TopEntry[] = [];
  for (const [route, pair] of Object.entries(routes)) {
    const w = pair['1m'];
    if (w.requests === 0) continue;
    entries.push({ route, requests: w.requests, ratePerSec: w.ratePerSec, errors: w.errors, errorRate: w.errorRate, p99Ms: w.p99Ms });
  }
  const byTraffic = [...entries].sort((a, b) => b.requests - a.requests || a.route.localeCompare(b.route)).slice(0, TOP_N);
  const byErrors = entries
    .filter((e) => e.errors > 0)
    .sort((a, b) => b.errors - a.errors || b.errorRate - a.errorRate || a.route.localeCompare(b.route))
    .slice(0, TOP_N);
  return { byTraffic, byErrors };
}

/** One 10 s bucket of one key; hist is sparse: [bin, count, bin, count, …]. */
export interface SerializedBucket {
  bucket: number;
  counts: number[];
  hist: number[];
}
export interface SerializedSummary {
  version: 1;
  bucketMs: number;
  bins: number;
  startedAt: number;
  now: number;
  keys: Array<{ kind: 'total' | 'route' | 'upstream'; name: string; buckets: SerializedBucket[] }>;
}

const slotOf = (bucket: number): number => ((bucket % SLOTS) + SLOTS) % SLOTS;

/** The ring for one key. */
class Series {
  readonly counts = new Uint32Array(SLOTS * FIELDS);
  readonly hist = new Uint32Array(SLOTS * BINS);
  readonly buckets = new Float64Array(SLOTS).fill(-Infinity);
  last = -Infinity;

  /** Make `slot` hold `bucket`; false when it holds a newer one (clock went back, or stale import). */
  claim(slot: number, bucket: number): boolean {
    const held = this.buckets[slot]!;
    if (held >= bucket) return held === bucket;
    this.buckets[slot] = bucket;
    this.counts.fill(0, slot * FIELDS, slot * FIELDS + FIELDS);
    this.hist.fill(0, slot * BINS, slot * BINS + BINS);
    if (bucket > this.last) this.last = bucket;
    return true;
  }

  add(bucket: number, status: number, bin: number): void {
    const slot = slotOf(bucket);
    // A clock stepping back lands in the newer bucket rather than wiping it.
    this.claim(slot, bucket);
    const c = slot * FIELDS;
    const counts = this.counts;
    counts[c + F_REQ]!++;
    if (status >= 500 || status < 100) counts[c + F_ERR]!++;
    else if (status === 499) counts[c + F_ABORT]!++;
    if (status >= 200 && status < 600) counts[c + F_CLASS + ((status / 100) | 0) - 2]!++;
    this.hist[slot * BINS + bin]!++;
  }

  import(b: SerializedBucket): void {
    const slot = slotOf(b.bucket);
    if (!this.claim(slot, b.bucket)) return;
    for (let f = 0; f < FIELDS; f++) this.counts[slot * FIELDS + f]! += b.counts[f] ?? 0;
    for (let i = 0; i + 1 < b.hist.length; i += 2) this.hist[slot * BINS + b.hist[i]!]! += b.hist[i + 1]!;
  }

  export(from: number, to: number): SerializedBucket[] {
    const out: SerializedBucket[] = [];
    for (let slot = 0; slot < SLOTS; slot++) {
      const bucket = this.buckets[slot]!;
      if (bucket < from || bucket > to || this.counts[slot * FIELDS + F_REQ] === 0) continue;
      const hist: number[] = [];
      for (let i = 0; i < BINS; i++) if (this.hist[slot * BINS + i]! > 0) hist.push(i, this.hist[slot * BINS + i]!);
      out.push({ bucket, counts: Array.from(this.counts.subarray(slot * FIELDS, slot * FIELDS + FIELDS)), hist });
    }
    return out;
  }
}

export interface RequestSummaryOptions {
  /** Wall clock in ms (injectable for tests; workers' buckets align on it when merged). */
  now?: () => number;
  /** Routes + upstreams tracked by name; new names beyond this fold into "(other)". Default 2000. */
  maxKeys?: number;
}

export class RequestSummary {
  readonly #now: () => number;
  readonly #maxKeys: number;
  #startedAt: number;
  readonly #total = new Series();
  readonly #routes = new Map<string, Series>();
  readonly #upstreams = new Map<string, Series>();
  #named = 0;
  #lastSweep = -Infinity;
  // Snapshot scratch space: one window's summed counters and histogram.
  readonly #acc = new Float64Array(FIELDS);
  readonly #accHist = new Float64Array(BINS);

  constructor(options: RequestSummaryOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxKeys = options.maxKeys ?? 2000;
    this.#startedAt = this.#now();
  }

  /** Hot path: once per finished request. */
  record(route: string | undefined, upstream: string | undefined, status: number, durationMs: number): void {
    const bucket = Math.floor(this.#now() / BUCKET_MS);
    const bin = binOf(durationMs);
    this.#total.add(bucket, status, bin);
    if (route !== undefined) (this.#routes.get(route) ?? this.#addKey(this.#routes, route, bucket)).add(bucket, status, bin);
    if (upstream !== undefined) {
      (this.#upstreams.get(upstream) ?? this.#addKey(this.#upstreams, upstream, bucket)).add(bucket, status, bin);
    }
  }

  /** Cold path: a name seen for the first time, or one folded into "(other)". */
  #addKey(map: Map<string, Series>, name: string, bucket: number): Series {
    if (name !== OTHER && this.#named >= this.#maxKeys && this.#lastSweep !== bucket) {
      // At most one sweep per bucket, so an overflow of names costs O(1) per request.
      this.#lastSweep = bucket;
      this.#evictIdle(bucket);
    }
    if (name === OTHER || this.#named >= this.#maxKeys) {
      let other = map.get(OTHER);
      if (other === undefined) map.set(OTHER, (other = new Series()));
      return other;
    }
    const series = new Series();
    map.set(name, series);
    this.#named++;
    return series;
  }

  /** Drop keys with nothing in the 5 m window (removed routes, renamed upstreams). */
  #evictIdle(bucket: number): void {
    for (const map of [this.#routes, this.#upstreams]) {
      for (const [name, series] of map) {
        if (series.last > bucket - SLOTS) continue;
        map.delete(name);
        if (name !== OTHER) this.#named--;
      }
    }
  }

  snapshot(): SummarySnapshot {
    const now = this.#now();
    const bucket = Math.floor(now / BUCKET_MS);
    this.#evictIdle(bucket);
    // Covered time: full older buckets plus the elapsed part of the current one, capped by uptime.
    const elapsed = now - bucket * BUCKET_MS;
    const uptime = now - this.#startedAt;
    const cover1m = Math.max(1000, Math.min(uptime, (SLOTS_1M - 1) * BUCKET_MS + elapsed)) / 1000;
    const cover5m = Math.max(1000, Math.min(uptime, (SLOTS - 1) * BUCKET_MS + elapsed)) / 1000;
    const pair = (s: Series): WindowPair => this.#windows(s, bucket, cover1m, cover5m);
    const routes = Object.fromEntries([...this.#routes].map(([name, s]) => [name, pair(s)]));
    const upstreams = Object.fromEntries([...this.#upstreams].map(([name, s]) => [name, pair(s)]));
    return { generatedAt: new Date(now).toISOString(), windows: ['1m', '5m'], total: pair(this.#total), routes, upstreams, top: topOf(routes) };
  }

  /** One pass over the ring, newest first: the 1 m figures are read out halfway. */
  #windows(series: Series, bucket: number, cover1m: number, cover5m: number): WindowPair {
    this.#acc.fill(0);
    this.#accHist.fill(0);
    let oneMinute: WindowStats | undefined;
    for (let i = 0; i < SLOTS; i++) {
      if (i === SLOTS_1M) oneMinute = this.#stats(cover1m);
      const b = bucket - i;
      const slot = slotOf(b);
      if (series.buckets[slot] !== b || series.counts[slot * FIELDS + F_REQ] === 0) continue;
      for (let f = 0; f < FIELDS; f++) this.#acc[f]! += series.counts[slot * FIELDS + f]!;
      const base = slot * BINS;
      for (let j = 0; j < BINS; j++) this.#accHist[j]! += series.hist[base + j]!;
    }
    return { '1m': oneMinute!, '5m': this.#stats(cover5m) };
  }

  #stats(coveredSec: number): WindowStats {
    const a = this.#acc;
    const requests = a[F_REQ]!;
    const [p50Ms = null, p95Ms = null, p99Ms = null] = percentiles(this.#accHist, requests, [0.5, 0.95, 0.99]);
    return {
      requests,
      ratePerSec: round(requests / coveredSec, 1e3),
      errors: a[F_ERR]!,
      clientAborts: a[F_ABORT]!,
      errorRate: requests === 0 ? 0 : round(a[F_ERR]! / requests, 1e6),
      p50Ms,
      p95Ms,
      p99Ms,
      status: { '2xx': a[F_CLASS]!, '3xx': a[F_CLASS + 1]!, '4xx': a[F_CLASS + 2]!, '5xx': a[F_CLASS + 3]! },
    };
  }

  /** Everything in the 5 m window, JSON-safe, for a primary process to merge. */
  exportState(): SerializedSummary {
    const now = this.#now();
    const to = Math.floor(now / BUCKET_MS);
    const from = to - SLOTS + 1;
    const keys: SerializedSummary['keys'] = [{ kind: 'total', name: '', buckets: this.#total.export(from, to) }];
    for (const [name, s] of this.#routes) keys.push({ kind: 'route', name, buckets: s.export(from, to) });
    for (const [name, s] of this.#upstreams) keys.push({ kind: 'upstream', name, buckets: s.export(from, to) });
    return { version: 1, bucketMs: BUCKET_MS, bins: BINS, startedAt: this.#startedAt, now, keys };
  }

  /** A summary holding the sum of several exported states (exact: counts and histograms add). */
  static fromStates(states: readonly SerializedSummary[], now?: number): RequestSummary {
    const at = now ?? (states.length > 0 ? Math.max(...states.map((s) => s.now)) : Date.now());
    const merged = new RequestSummary({ now: () => at, maxKeys: Number.MAX_SAFE_INTEGER });
    if (states.length > 0) merged.#startedAt = Math.min(...states.map((s) => s.startedAt));
    const bucket = Math.floor(at / BUCKET_MS);
    for (const state of states) {
      if (state.version !== 1 || state.bucketMs !== BUCKET_MS || state.bins !== BINS) {
        throw new Error('RequestSummary: incompatible exported state (different bucket or histogram layout)');
      }
      for (const key of state.keys) {
        const map = key.kind === 'route' ? merged.#routes : merged.#upstreams;
        const series = key.kind === 'total' ? merged.#total : (map.get(key.name) ?? merged.#addKey(map, key.name, bucket));
        for (const b of key.buckets) if (b.bucket <= bucket && b.bucket > bucket - SLOTS) series.import(b);
      }
    }
    return merged;
  }

  /** Snapshot of several processes' states, as if one summary had seen all their requests. */
  static merge(states: readonly SerializedSummary[], now?: number): SummarySnapshot {
    return RequestSummary.fromStates(states, now).snapshot();
  }
}

/** Values at the given quantiles (ascending), each the representative of the bin holding that rank. */
function percentiles(hist: Float64Array, n: number, qs: readonly number[]): Array<number | null> {
  let seen = 0;
  let bin = 0;
  return qs.map((q) => {
    if (n === 0) return null;
    const rank = Math.max(1, Math.ceil(q * n));
    while (seen + hist[bin]! < rank && bin < BINS - 1) seen += hist[bin++]!;
    return round(BIN_VALUE[bin]!, 1e3);
  });
}

const round = (value: number, scale: number): number => Math.round(value * scale) / scale;
