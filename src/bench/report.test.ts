import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketOf, LatencyHistogram, upperEdgeOf } from './histogram.ts';
import type { LoadResult } from './load-generator.ts';
import { fmtInt, markdownTable, median, percentileOfSorted, summarize, type RunRecord } from './report.ts';

test('percentileOfSorted uses nearest rank', () => {
  const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.equal(percentileOfSorted(xs, 50), 5);
  assert.equal(percentileOfSorted(xs, 99), 10);
  assert.equal(percentileOfSorted(xs, 0), 1);
  assert.ok(Number.isNaN(percentileOfSorted([], 50)));
});

test('median of odd and even counts', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test('histogram buckets are contiguous and within 1 % above 255 µs', () => {
  for (let v = 0; v < 300_000; v += 7) {
    const i = bucketOf(v);
    assert.ok(upperEdgeOf(i) >= v, `edge of ${v}`);
    assert.ok(i === 0 || upperEdgeOf(i - 1) < v, `previous edge of ${v}`);
    assert.ok(upperEdgeOf(i) - v <= Math.max(0, v / 128), `error at ${v}`);
  }
});

test('histogram percentiles track a sorted sample', () => {
  const h = new LatencyHistogram();
  const xs: number[] = [];
  for (let i = 1; i <= 10_000; i++) {
    const v = (i * 7919) % 50_000; // deterministic spread, 0..50 ms in µs
    h.record(v);
    xs.push(v);
  }
  xs.sort((a, b) => a - b);
  for (const p of [50, 90, 99, 99.9]) {
    const exact = percentileOfSorted(xs, p);
    assert.ok(Math.abs(h.percentile(p) - exact) <= exact / 100 + 1, `p${p}: ${h.percentile(p)} vs ${exact}`);
  }
  assert.equal(h.percentile(100), xs.at(-1));
  assert.equal(h.count, 10_000);
});

function load(rps: number, p50: number, errors = 0): LoadResult {
  return {
    scenario: 'get-small', connections: 8, durationS: 1, requests: rps, rps, non2xx: 0,
    errors: { connect: 0, reset: errors, protocol: 0, timeout: 0, size: 0 }, errorTotal: errors,
    errorSamples: [], connectionsOpened: 0, warmupErrors: 0,
    latencyMs: { mean: p50, p50, p90: p50, p99: p50 * 2, max: p50 * 3 },
  };
}

const rec = (rep: number, target: string, l?: LoadResult): RunRecord => ({
  rep, target, scenario: 'get-small', gatewayCpuPct: target === 'direct' ? null : 95, loadCpuPct: 60,
  upstreamConnections: 0, ...(l ? { load: l } : { failure: 'did not start' }),
});

test('summarize takes medians over reps and ratios to direct', () => {
  const records = [
    rec(1, 'direct', load(40_000, 1)), rec(1, 'sluice', load(20_000, 2)),
    rec(2, 'direct', load(50_000, 1)), rec(2, 'sluice', load(10_000, 4, 3)),
    rec(3, 'direct', load(60_000, 1)), rec(3, 'sluice'),
  ];
  const [direct, sluice] = summarize(records, ['get-small'], ['direct', 'sluice']);
  assert.equal(direct!.rps, 50_000);
  assert.equal(direct!.ratioToDirect, 1);
  assert.equal(sluice!.rps, 15_000);
  assert.equal(sluice!.ratioToDirect, 0.3);
  assert.equal(sluice!.p50Ms, 3);
  assert.equal(sluice!.errors, 3);
  assert.equal(sluice!.failed, 1);
});

test('markdown table has a header, an alignment row and one row per result', () => {
  const rows = summarize([rec(1, 'direct', load(45_678.4, 1.234)), rec(1, 'gw')], ['get-small'], ['direct', 'gw']);
  const lines = markdownTable(rows).split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[0]!, /^\| scenario \| target \| req\/s \|/);
  assert.match(lines[1]!, /^\|---\|---\|---:\|/);
  assert.equal(lines[2], '| get-small | direct | 45,678 | – | 1.23 | 2.47 | 0 | 0 | 1.00 | – | 60 | 0 |');
  assert.match(lines[3]!, /^\| get-small \| gw \(1\/1 failed\) \| – \|/);
  assert.equal(fmtInt(null), '–');
});
