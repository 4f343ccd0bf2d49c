import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { CounterFamily, HistogramFamily, OVERFLOW } from './families.ts';
import { PluginMetricsRegistry } from '../plugin-metrics.ts';

describe('metric families', () => {
  it('puts a value equal to a bound in that bucket (le) and prints cumulative buckets', async () => {
    const h = new HistogramFamily({ name: 'x_seconds', help: 'x', labelNames: ['r'], buckets: [0.1, 1] });
    const child = h.child('a');
    for (const v of [0.05, 0.1, 0.5, 1, 7]) child.observe(v);
    const registry = new Registry();
    registry.registerMetric(h as never);
    const text = await registry.metrics();
    assert.match(text, /x_seconds_bucket\{r="a",le="0.1"\} 2/);
    assert.match(text, /x_seconds_bucket\{r="a",le="1"\} 4/);
    assert.match(text, /x_seconds_bucket\{r="a",le="\+Inf"\} 5/);
    assert.match(text, /x_seconds_count\{r="a"\} 5/);
    assert.match(text, /x_seconds_sum\{r="a"\} 8.65/);
  });

  it('binds a child once and returns the same object for the same labels', () => {
    const c = new CounterFamily({ name: 'c_total', help: 'c', labelNames: ['a', 'b'] });
    assert.equal(c.child('1', '2'), c.child('1', '2'));
    assert.notEqual(c.child('1', '2'), c.child('2', '1'));
    assert.throws(() => c.child('1'), /takes 2 label values/);
  });

  it('folds series past maxSeries into one overflow series', async () => {
    const c = new CounterFamily({ name: 'c_total', help: 'c', labelNames: ['k'], maxSeries: 2 });
    for (const k of ['a', 'b', 'c', 'd']) c.child(k).inc();
    const { values } = await c.get();
    assert.deepEqual(values.map((v) => [v.labels.k, v.value]), [['a', 1], ['b', 1], [OVERFLOW, 2]]);
  });

  it('rejects invalid names, reserved labels and unsorted buckets', () => {
    assert.throws(() => new CounterFamily({ name: 'bad-name', help: '' }), /invalid metric name/);
    assert.throws(() => new CounterFamily({ name: 'ok_total', help: '', labelNames: ['le'] }), /invalid label name/);
    assert.throws(() => new HistogramFamily({ name: 'h', help: '', buckets: [1, 1] }), /strictly ascending/);
  });
});

describe('plugin metrics API', () => {
  it('prefixes names, keeps counts when the same metric is declared again, and rejects a changed declaration', async () => {
    const created: string[] = [];
    const registry = new PluginMetricsRegistry((f) => created.push(f.name));
    const a = registry.forPlugin('my-plugin').counter({ name: 'calls_total', help: 'calls' });
    a.inc();
    const b = registry.forPlugin('my-plugin').counter({ name: 'calls_total', help: 'calls' });
    b.inc(2);
    assert.deepEqual(created, ['sluice_plugin_my_plugin_calls_total']);
    assert.throws(() => registry.forPlugin('my-plugin').gauge({ name: 'calls_total', help: 'x' }), /different type/);
    assert.throws(() => registry.forPlugin('my-plugin').counter({ name: 'calls', help: 'x' }), /must end in _total/);
    assert.throws(() => registry.forPlugin('my-plugin').counter({ name: 'Bad_total', help: 'x' }), /snake_case/);
  });

  it('requires label values for labelled metrics', () => {
    const m = new PluginMetricsRegistry().forPlugin('p');
    const g = m.gauge({ name: 'depth', help: 'd', labelNames: ['queue'] });
    assert.throws(() => g.set(1), /bind them with labels/);
    assert.throws(() => g.labels({} as { queue: string }), /missing label "queue"/);
    g.labels({ queue: 'q1' }).set(3);
  });
});
