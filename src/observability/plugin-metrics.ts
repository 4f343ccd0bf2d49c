import type { PluginCounter, PluginGauge, PluginHistogram, PluginMetricSpec, PluginMetrics } from '../plugins/types.ts';
import { DEFAULT_LATENCY_BUCKETS } from '../config/schema/observability.ts';
import { CounterFamily, GaugeFamily, HistogramFamily } from './prom/families.ts';

type AnyFamily = CounterFamily | GaugeFamily | HistogramFamily;

const SUFFIX = /^[a-z][a-z0-9_]*$/;

/**
 * The metrics plugins declare, shared by every plugin instance of every config version: a family
 * is created once per full name and registered with the gateway's data registry (through
 * `onCreated`), so counts survive reloads and workers' values add up like the gateway's own.
 */
export class PluginMetricsRegistry {
  readonly #families = new Map<string, { family: AnyFamily; signature: string }>();

  constructor(private readonly onCreated: (family: AnyFamily) => void = () => undefined) {}

  forPlugin(plugin: string): PluginMetrics {
    const prefix = `sluice_plugin_${plugin.replace(/-/g, '_')}_`;
    return {
      counter: <L extends string>(spec: PluginMetricSpec<L>): PluginCounter<L> => {
        if (!spec.name.endsWith('_total')) throw new Error(`plugin "${plugin}": counter "${spec.name}" must end in _total (Prometheus naming)`);
        const family = this.#declare(prefix, plugin, 'counter', spec, () => new CounterFamily(this.#options(prefix, spec))) as CounterFamily;
        return withLabels(family, (child) => ({ inc: (by = 1) => child.inc(by) }), ['inc']);
      },
      gauge: <L extends string>(spec: PluginMetricSpec<L>): PluginGauge<L> => {
        const family = this.#declare(prefix, plugin, 'gauge', spec, () => new GaugeFamily(this.#options(prefix, spec))) as GaugeFamily;
        return withLabels(family, (child) => ({ set: (v: number) => child.set(v), inc: (by = 1) => child.inc(by), dec: (by = 1) => child.dec(by) }), ['set', 'inc', 'dec']);
      },
      histogram: <L extends string>(spec: PluginMetricSpec<L> & { buckets?: readonly number[] }): PluginHistogram<L> => {
        const buckets = spec.buckets ?? DEFAULT_LATENCY_BUCKETS;
        const family = this.#declare(prefix, plugin, `histogram(${buckets.join()})`, spec, () => new HistogramFamily({ ...this.#options(prefix, spec), buckets })) as HistogramFamily;
        return withLabels(family, (child) => ({ observe: (v: number) => child.observe(v) }), ['observe']);
      },
    };
  }

  #options<L extends string>(prefix: string, spec: PluginMetricSpec<L>) {
    return { name: prefix + spec.name, help: spec.help, labelNames: spec.labelNames ?? [], maxSeries: spec.maxSeries ?? 1000 };
  }

  #declare<L extends string>(prefix: string, plugin: string, kind: string, spec: PluginMetricSpec<L>, create: () => AnyFamily): AnyFamily {
    if (!SUFFIX.test(spec.name)) throw new Error(`plugin "${plugin}": metric name "${spec.name}" must be snake_case ([a-z][a-z0-9_]*)`);
    const name = prefix + spec.name;
    const signature = `${kind}|${(spec.labelNames ?? []).join(',')}`;
    const known = this.#families.get(name);
    if (known !== undefined) {
      if (known.signature !== signature) throw new Error(`plugin "${plugin}": metric "${name}" was declared before with a different type, buckets or labels`);
      return known.family;
    }
    const family = create();
    this.#families.set(name, { family, signature });
    this.onCreated(family);
    return family;
  }
}

interface Bindable<C> {
  readonly labelNames: readonly string[];
  readonly name: string;
  child(...values: string[]): C;
}

/** The metric handle: itself bound to "no labels" when it has none, plus labels() for the rest. */
function withLabels<C, H extends object>(family: Bindable<C>, wrap: (child: C) => H, methods: readonly string[]): H & { labels(values: Record<string, string>): H } {
  const needsLabels = (): never => {
    throw new Error(`metric "${family.name}" has labels (${family.labelNames.join(', ')}): bind them with labels({...})`);
  };
  const direct = family.labelNames.length === 0 ? wrap(family.child()) : (Object.fromEntries(methods.map((m) => [m, needsLabels])) as H);
  return {
    ...direct,
    labels(values: Record<string, string>): H {
      const ordered = family.labelNames.map((l) => {
        const v = values[l];
        if (v === undefined) throw new Error(`metric "${family.name}": missing label "${l}"`);
        return String(v);
      });
      return wrap(family.child(...ordered));
    },
  };
}
