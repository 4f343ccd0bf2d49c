/**
 * Metric families for the hot path. prom-client's own Counter/Histogram hash their label object on
 * every inc()/observe(), even through `.labels()`; these hand out children that are plain objects
 * with numbers, bound once (at config compile time) and updated with one add per request. The
 * families implement the shape prom-client's Registry reads (`name`, `help`, `type`, `aggregator`,
 * `get()`), so they are served, merged across workers (AggregatorRegistry.aggregate) and
 * formatted by prom-client like its own metrics.
 */

type Aggregator = 'sum' | 'first' | 'min' | 'max' | 'average' | 'omit';
type Labels = Record<string, string | number>;
interface Value {
  value: number;
  labels: Labels;
  metricName?: string;
}
export interface FamilyJson {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  aggregator: Aggregator;
  values: Value[];
}

/** Label value given to every label of a series created past a family's limit. */
export const OVERFLOW = '__overflow__';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

interface FamilyOptions {
  name: string;
  help: string;
  labelNames?: readonly string[];
  /** Series (label combinations) kept at most; further ones share one OVERFLOW series. Default 10000. */
  maxSeries?: number;
  aggregator?: Aggregator;
}

abstract class Family<C> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly aggregator: Aggregator;
  abstract readonly type: FamilyJson['type'];
  protected readonly children = new Map<string, { labels: Labels; child: C }>();
  readonly #maxSeries: number;

  constructor(options: FamilyOptions) {
    if (!NAME.test(options.name)) throw new Error(`invalid metric name "${options.name}"`);
    for (const l of options.labelNames ?? []) {
      if (!LABEL.test(l) || l.startsWith('__') || l === 'le') throw new Error(`invalid label name "${l}" for metric "${options.name}"`);
    }
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames ?? [];
    this.aggregator = options.aggregator ?? 'sum';
    this.#maxSeries = options.maxSeries ?? 10_000;
  }

  protected abstract create(): C;

  /** The child for these label values (same order as labelNames), created on first use. Cold path: bind once, keep it. */
  child(...values: string[]): C {
    if (values.length !== this.labelNames.length) {
      throw new Error(`metric "${this.name}" takes ${this.labelNames.length} label values (${this.labelNames.join(', ')}), got ${values.length}`);
    }
    const key = values.join('\u0000');
    const found = this.children.get(key);
    if (found !== undefined) return found.child;
    if (this.children.size >= this.#maxSeries) return this.#overflow();
    const labels: Labels = {};
    for (let i = 0; i < values.length; i++) labels[this.labelNames[i]!] = values[i]!;
    const child = this.create();
    this.children.set(key, { labels, child });
    return child;
  }

  #overflow(): C {
    const key = this.labelNames.map(() => OVERFLOW).join('\u0000');
    let found = this.children.get(key);
    if (found === undefined) {
      const labels: Labels = {};
      for (const l of this.labelNames) labels[l] = OVERFLOW;
      found = { labels, child: this.create() };
      this.children.set(key, found);
    }
    return found.child;
  }

  /** Drop every series (gauges recomputed at scrape time). */
  clear(): void {
    this.children.clear();
  }

  get seriesCount(): number {
    return this.children.size;
  }

  protected abstract values(): Value[];

  /** Called by prom-client's Registry on every scrape (and by getMetricsAsJSON). */
  async get(): Promise<FamilyJson> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.values() };
  }
}

export class CounterChild {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
}

export class GaugeChild {
  value = 0;
  set(value: number): void {
    this.value = value;
  }
  inc(by = 1): void {
    this.value += by;
  }
  dec(by = 1): void {
    this.value -= by;
  }
}

/** A family of single-number children; `collect` runs before each scrape for values kept elsewhere. */
abstract class ScalarFamily<C extends { value: number }, Self> extends Family<C> {
  readonly #collect: ((family: Self) => void) | undefined;

  constructor(options: FamilyOptions & { collect?: (family: Self) => void }) {
    super(options);
    this.#collect = options.collect;
  }
  protected values(): Value[] {
    this.#collect?.(this as unknown as Self);
    const out: Value[] = [];
    for (const { labels, child } of this.children.values()) out.push({ labels, value: child.value });
    return out;
  }
}

/** Counters: a `collect` must only ever raise the values. */
export class CounterFamily extends ScalarFamily<CounterChild, CounterFamily> {
  readonly type = 'counter';
  protected create(): CounterChild {
    return new CounterChild();
  }
}

export class GaugeFamily extends ScalarFamily<GaugeChild, GaugeFamily> {
  readonly type = 'gauge';
  protected create(): GaugeChild {
    return new GaugeChild();
  }
}

export class HistogramChild {
  /** Per bucket, not cumulative; the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(private readonly bounds: Float64Array) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    // `le` semantics: the first bucket whose bound is ≥ the value.
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

export class HistogramFamily extends Family<HistogramChild> {
  readonly type = 'histogram';
  readonly bounds: Float64Array;

  constructor(options: FamilyOptions & { buckets: readonly number[] }) {
    super(options);
    const sorted = [...options.buckets];
    for (let i = 0; i < sorted.length; i++) {
      if (!(sorted[i]! > (i === 0 ? -Infinity : sorted[i - 1]!)) || !Number.isFinite(sorted[i])) {
        throw new Error(`histogram "${options.name}": buckets must be finite and strictly ascending`);
      }
    }
    this.bounds = Float64Array.from(sorted);
  }
  protected create(): HistogramChild {
    return new HistogramChild(this.bounds);
  }
  protected values(): Value[] {
    const out: Value[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const { labels, child } of this.children.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += child.counts[i]!;
        out.push({ labels: { ...labels, le: i < this.bounds.length ? this.bounds[i]! : '+Inf' }, value: cumulative, metricName: bucketName });
      }
      out.push({ labels, value: child.sum, metricName: `${this.name}_sum` });
      out.push({ labels, value: child.count, metricName: `${this.name}_count` });
    }
    return out;
  }
}
