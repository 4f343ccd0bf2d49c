import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BINS, binOf, RequestSummary } from './summary.ts';

const T0 = 1_700_000_000_000; // a bucket boundary (multiple of 10 s)

function clock(start = T0): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function within(actual: number | null, expected: number, tolerance: number): void {
  assert.ok(actual !== null, 'expected a value');
  assert.ok(Math.abs(actual - expected) <= expected * tolerance, `${actual} not within ${tolerance * 100}% of ${expected}`);
}

describe('RequestSummary', () => {
  it('reports empty windows before any request', () => {
    const c = clock();
    const s = new RequestSummary({ now: c.now });
    const snap = s.snapshot();
    assert.deepEqual(snap.windows, ['1m', '5m']);
    assert.equal(snap.generatedAt, new Date(T0).toISOString());
    assert.equal(snap.total['1m'].requests, 0);
    assert.equal(snap.total['5m'].p50Ms, null);
    assert.equal(snap.total['5m'].errorRate, 0);
    assert.deepEqual(snap.routes, {});
  });

  it('counts requests from 2 minutes ago in 5m but not 1m, and forgets them after 5m', () => {
    const c = clock();
    const s = new RequestSummary({ now: c.now });
    for (let i = 0; i < 10; i++) s.record('r', 'u', 200, 5);
    c.advance(120_000);
    for (let i = 0; i < 4; i++) s.record('r', 'u', 200, 5);
    let snap = s.snapshot();
    assert.equal(snap.total['1m'].requests, 4);
    assert.equal(snap.total['5m'].requests, 14);
    assert.equal(snap.routes['r']!['5m'].requests, 14);
    c.advance(200_000); // 320 s after the first batch, 200 s after the second
    snap = s.snapshot();
    assert.equal(snap.total['5m'].requests, 4);
    assert.equal(snap.total['1m'].requests, 0);
    c.advance(200_000);
    snap = s.snapshot();
    assert.equal(snap.total['5m'].requests, 0);
    assert.deepEqual(snap.routes, {}, 'idle keys are dropped');
  });

  it('reuses a ring slot a lap later without leaking the old counts', () => {
    const c = clock();
    const s = new RequestSummary({ now: c.now });
    s.record('r', undefined, 200, 1);
    c.advance(300_000); // same slot, next lap
    s.record('r', undefined, 500, 1);
    const w = s.snapshot().total['5m'];
    assert.equal(w.requests, 1);
    assert.equal(w.status['5xx'], 1);
    assert.equal(w.status['2xx'], 0);
  });

  it('does not wipe newer data when the clock steps back', () => {
    const c = clock();
    const s = new RequestSummary({ now: c.now });
    c.advance(300_000);
    s.record('r', undefined, 200, 1);
    c.advance(-300_000); // same slot, older bucket
    s.record('r', undefined, 200, 1);
    c.advance(300_000);
    assert.equal(s.snapshot().total['1m'].requests, 2);
  });

  it('divides rates by uptime first, then by the covered window', () => {
    const c = clock(T0 + 5_000);
    const s = new RequestSummary({ now: c.now });
    c.advance(20_000);
    for (let i = 0; i < 100; i++) s.record('r', 'u', 200, 1);
    assert.equal(s.snapshot().total['1m'].ratePerSec, 5); // 100 over 20 s of uptime
    c.advance(280_000); // uptime 300 s, now 5 s into its bucket
    for (let i = 0; i < 110; i++) s.record('r', 'u', 200, 1);
    const snap = s.snapshot();
    assert.equal(snap.total['1m'].ratePerSec, 2); // 110 over 50 s + 5 s
    assert.equal(snap.total['5m'].ratePerSec, round3(210 / 295)); // 29 buckets + 5 s
  });

  it('lists the top routes by traffic and by errors over the last minute', () => {
    const s = new RequestSummary({ now: clock().now });
    for (let i = 0; i < 30; i++) s.record('busy', 'u', 200, 1);
    for (let i = 0; i < 10; i++) s.record('flaky', 'u', i < 6 ? 503 : 200, 1);
    for (let i = 0; i < 5; i++) s.record('broken', 'u', 500, 1);
    s.record('quiet', 'u', 404, 1);
    const { top } = s.snapshot();
    assert.deepEqual(top.byTraffic.map((e) => [e.route, e.requests]), [['busy', 30], ['flaky', 10], ['broken', 5], ['quiet', 1]]);
    assert.deepEqual(top.byErrors.map((e) => [e.route, e.errors, e.errorRate]), [['flaky', 6, 0.6], ['broken', 5, 1]]);
  });

  it('gives percentiles within histogram precision for a uniform 1..1000 ms distribution', () => {
    const s = new RequestSummary({ now: clock().now });
    for (let ms = 1; ms <= 1000; ms++) s.record('r', 'u', 200, ms);
    const w = s.snapshot().total['1m'];
    within(w.p50Ms, 500, 0.03);
    within(w.p95Ms, 950, 0.03);
    within(w.p99Ms, 990, 0.03);
  });

  it('keeps a 2% relative error from 0.01 ms to 60 s and clamps outside', () => {
    const s = new RequestSummary({ now: clock().now });
    for (const ms of [0.05, 0.3, 7, 123.4, 4567, 59_000]) {
      const one = new RequestSummary({ now: clock().now });
      one.record(undefined, undefined, 200, ms);
      within(one.snapshot().total['1m'].p50Ms, ms, 0.021);
    }
    assert.equal(binOf(0), 0);
    assert.equal(binOf(-3), 0);
    assert.equal(binOf(Number.NaN), 0);
    assert.equal(binOf(3_600_000), BINS - 1);
    s.record(undefined, undefined, 200, 3_600_000);
    within(s.snapshot().total['1m'].p99Ms, 60_000, 0.021);
  });

  it('counts errors, client aborts and status classes', () => {
    const s = new RequestSummary({ now: clock().now });
    const statuses = [200, 201, 204, 301, 304, 404, 499, 500, 502, 503, 101, 0];
    for (const st of statuses) s.record('r', 'u', st, 1);
    const w = s.snapshot().total['1m'];
    assert.equal(w.requests, 12);
    assert.equal(w.errors, 4); // 500, 502, 503 and the status-less one
    assert.equal(w.clientAborts, 1);
    assert.equal(w.errorRate, round6(4 / 12));
    assert.deepEqual(w.status, { '2xx': 3, '3xx': 2, '4xx': 2, '5xx': 3 });
  });

  it('keeps routes and upstreams apart; requests without a route count only in total', () => {
    const s = new RequestSummary({ now: clock().now });
    s.record('users', 'users-svc', 200, 10);
    s.record('users', 'users-svc', 502, 10);
    s.record('orders', 'orders-svc', 200, 20);
    s.record('orders', undefined, 429, 1); // answered by a plugin
    s.record(undefined, undefined, 404, 1); // no route matched
    const snap = s.snapshot();
    assert.equal(snap.total['1m'].requests, 5);
    assert.deepEqual(Object.keys(snap.routes).sort(), ['orders', 'users']);
    assert.deepEqual(Object.keys(snap.upstreams).sort(), ['orders-svc', 'users-svc']);
    assert.equal(snap.routes['users']!['1m'].errors, 1);
    assert.equal(snap.routes['orders']!['1m'].requests, 2);
    assert.equal(snap.upstreams['orders-svc']!['1m'].requests, 1);
    within(snap.upstreams['orders-svc']!['1m'].p50Ms, 20, 0.021);
  });

  it('folds names beyond maxKeys into "(other)" and frees room when keys go idle', () => {
    const c = clock();
    const s = new RequestSummary({ now: c.now, maxKeys: 3 });
    s.record('a', 'u1', 200, 1); // 2 keys
    s.record('b', 'u2', 200, 1); // 4th key folds
    s.record('c', undefined, 200, 1);
    let snap = s.snapshot();
    assert.deepEqual(Object.keys(snap.routes).sort(), ['(other)', 'a', 'b']);
    assert.deepEqual(Object.keys(snap.upstreams).sort(), ['(other)', 'u1']);
    assert.equal(snap.routes['a']!['1m'].requests, 1);
    c.advance(100_000);
    s.record('c', undefined, 200, 1);
    snap = s.snapshot();
    assert.equal(snap.routes['(other)']!['5m'].requests, 2);
    assert.equal(snap.routes['(other)']!['1m'].requests, 1);
    c.advance(300_000); // everything idle for 5 min: room again
    s.record('d', 'u3', 200, 1);
    snap = s.snapshot();
    assert.deepEqual(Object.keys(snap.routes), ['d']);
    assert.deepEqual(Object.keys(snap.upstreams), ['u3']);
  });

  it('merges exported states exactly like one summary fed all the data', () => {
    const c = clock(T0 + 3_000);
    const all = new RequestSummary({ now: c.now });
    const a = new RequestSummary({ now: c.now });
    const b = new RequestSummary({ now: c.now });
    let seed = 7;
    const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 5000; i++) {
      if (i % 500 === 0) c.advance(17_000);
      const route = `r${Math.floor(rand() * 4)}`;
      const upstream = rand() < 0.1 ? undefined : `u${Math.floor(rand() * 3)}`;
      const status = [200, 200, 200, 404, 499, 502][Math.floor(rand() * 6)]!;
      const ms = rand() * rand() * 2000;
      all.record(route, upstream, status, ms);
      (i % 3 === 0 ? a : b).record(route, upstream, status, ms);
    }
    const states = JSON.parse(JSON.stringify([a.exportState(), b.exportState()]));
    assert.deepEqual(RequestSummary.merge(states), all.snapshot());
    assert.deepEqual(RequestSummary.merge(states, c.now()), all.snapshot());
  });

  it('rejects states with another layout', () => {
    const state = new RequestSummary().exportState();
    assert.throws(() => RequestSummary.merge([{ ...state, bins: 10 }]), /incompatible/);
  });
});

function round3(v: number): number {
  return Math.round(v * 1e3) / 1e3;
}
function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}
