import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBalancer } from './index.ts';
import { IpHashBalancer } from './ip-hash.ts';
import { LeastConnectionsBalancer } from './least-connections.ts';
import { P2cBalancer } from './p2c.ts';
import { RandomBalancer } from './random.ts';
import { RoundRobinBalancer } from './round-robin.ts';
import { makeTargets, seeded, tally } from './test-helpers.test.ts';
import type { Balancer, BalancerTarget } from './types.ts';
import { WeightedRoundRobinBalancer } from './weighted-round-robin.ts';

const names = (b: Balancer, n: number, key?: string): string[] =>
  Array.from({ length: n }, () => b.pick(key)?.id.slice(-6, -5) ?? '-'); // ids end in "<digit>:8080"

/** Every algorithm must honour weight 0, availability, exclude, and an empty list. */
const algorithms = ['round-robin', 'weighted-round-robin', 'least-connections', 'random', 'p2c', 'ip-hash', 'consistent-hash'] as const;
describe('all algorithms', () => {
  for (const algorithm of algorithms) {
    it(`${algorithm}: skips weight 0, unavailable and excluded; undefined when none left`, () => {
      const t = makeTargets([0, 1, 1, 1]);
      const b = createBalancer(t, { algorithm }, { random: seeded(1), maglevTableSize: 1009 });
      assert.equal(b.algorithm, algorithm);
      t[1]!.available = false;
      for (let i = 0; i < 200; i++) {
        const key = i % 2 ? `k${i}` : undefined;
        const picked = b.pick(key, t[2]);
        assert.equal(picked, t[3]);
      }
      t[3]!.available = false;
      assert.equal(b.pick('k', t[2]), undefined, 'only the excluded target is left');
      t[2]!.available = false;
      assert.equal(b.pick('k'), undefined);
      assert.equal(b.pick(undefined), undefined);
      assert.equal(createBalancer([], { algorithm }).pick('k'), undefined);
      assert.equal(createBalancer(makeTargets([0, 0]), { algorithm }).pick('k'), undefined);
    });
  }
});

describe('round-robin', () => {
  it('cycles in order and ignores weights', () => {
    assert.deepEqual(names(new RoundRobinBalancer(makeTargets([5, 1, 1])), 7), ['0', '1', '2', '0', '1', '2', '0']);
  });
  it('gives a skipped target’s turn to the next one and keeps cycling', () => {
    const t = makeTargets([1, 1, 1, 1]);
    const b = new RoundRobinBalancer(t);
    t[1]!.available = false;
    assert.deepEqual(names(b, 6), ['0', '2', '3', '0', '2', '3']);
    t[1]!.available = true;
    assert.deepEqual(names(b, 4), ['0', '1', '2', '3']);
  });
});

describe('weighted-round-robin', () => {
  it('produces nginx’s smooth sequence for weights 5,1,1', () => {
    const b = new WeightedRoundRobinBalancer(makeTargets([5, 1, 1]));
    const seq = ['0', '0', '1', '0', '2', '0', '0'];
    assert.deepEqual(names(b, 14), [...seq, ...seq]);
  });
  it('matches weights exactly over whole cycles', () => {
    const b = new WeightedRoundRobinBalancer(makeTargets([3, 2, 1]));
    const counts = tally(600, () => b.pick(undefined));
    assert.deepEqual([...counts.values()].sort((x, y) => y - x), [300, 200, 100]);
  });
  it('shares an unavailable target’s turns among the rest by weight', () => {
    const t = makeTargets([4, 2, 1]);
    const b = new WeightedRoundRobinBalancer(t);
    t[0]!.available = false;
    const counts = tally(300, () => b.pick(undefined));
    assert.equal(counts.get(t[1]!.id), 200);
    assert.equal(counts.get(t[2]!.id), 100);
    assert.equal(counts.get(t[0]!.id), undefined);
  });
});

describe('least-connections', () => {
  it('picks the target with the fewest requests in flight', () => {
    const t = makeTargets([1, 1, 1]);
    t[0]!.inflight = 5;
    t[1]!.inflight = 2;
    t[2]!.inflight = 7;
    const b = new LeastConnectionsBalancer(t);
    for (let i = 0; i < 5; i++) assert.equal(b.pick(undefined), t[1]);
    t[1]!.available = false;
    assert.equal(b.pick(undefined), t[0], 'next least when the minimum is unavailable');
  });
  it('compares inflight relative to weight', () => {
    const t = makeTargets([4, 1]);
    t[0]!.inflight = 6; // 1.5 per weight
    t[1]!.inflight = 2; // 2 per weight
    assert.equal(new LeastConnectionsBalancer(t).pick(undefined), t[0]);
  });
  it('rotates among equally loaded targets', () => {
    const b = new LeastConnectionsBalancer(makeTargets([1, 1, 1]));
    assert.deepEqual(names(b, 6), ['0', '1', '2', '0', '1', '2']);
  });
  it('tracks load as it changes', () => {
    const t = makeTargets([1, 1, 1]);
    const b = new LeastConnectionsBalancer(t);
    for (let i = 0; i < 30; i++) b.pick(undefined)!.inflight++;
    assert.deepEqual(t.map((x) => x.inflight), [10, 10, 10]);
  });
});

describe('random', () => {
  it('picks in proportion to weight', () => {
    const t = makeTargets([1, 2, 3, 4]);
    const b = new RandomBalancer(t, seeded(42));
    const counts = tally(100_000, () => b.pick(undefined));
    t.forEach((x, i) => assert.ok(Math.abs(counts.get(x.id)! / 100_000 - (i + 1) / 10) < 0.01, `${x.id}: ${counts.get(x.id)}`));
  });
  it('renormalizes over the available targets', () => {
    const t = makeTargets([1, 1, 8]);
    const b = new RandomBalancer(t, seeded(7));
    t[2]!.available = false;
    const counts = tally(20_000, () => b.pick(undefined));
    assert.equal(counts.get(t[2]!.id), undefined);
    assert.ok(Math.abs(counts.get(t[0]!.id)! / 20_000 - 0.5) < 0.02);
  });
});

describe('p2c', () => {
  it('never picks the busiest of two when another is idle', () => {
    const t = makeTargets(Array(10).fill(1));
    t[0]!.inflight = 100;
    const b = new P2cBalancer(t, seeded(3));
    const counts = tally(10_000, () => b.pick(undefined));
    assert.equal(counts.get(t[0]!.id), undefined);
  });
  it('prefers the least loaded target (chosen whenever it is one of the two)', () => {
    const t = makeTargets(Array(10).fill(1));
    for (const x of t) x.inflight = 10;
    t[0]!.inflight = 0;
    const b = new P2cBalancer(t, seeded(5));
    const share = tally(20_000, () => b.pick(undefined)).get(t[0]!.id)! / 20_000;
    assert.ok(Math.abs(share - 0.2) < 0.015, `share ${share}, expected ≈ 1 − (9/10 · 8/9) = 0.2`);
  });
  it('weighs load by weight', () => {
    const t = makeTargets([4, 1]);
    t[0]!.inflight = 4; // 1 per weight
    t[1]!.inflight = 2; // 2 per weight
    const b = new P2cBalancer(t, seeded(9));
    for (let i = 0; i < 50; i++) assert.equal(b.pick(undefined), t[0]);
  });
  it('follows weights when idle', () => {
    const t = makeTargets([1, 3]);
    const b = new P2cBalancer(t, seeded(11));
    const share = tally(40_000, () => b.pick(undefined)).get(t[1]!.id)! / 40_000;
    assert.ok(Math.abs(share - 0.75) < 0.015, `share ${share}`);
  });
});

describe('ip-hash', () => {
  const keys = Array.from({ length: 10_000 }, (_, i) => `203.0.113.${i % 256}-${i}`);
  const owners = (b: Balancer<BalancerTarget>) => keys.map((k) => b.pick(k)!.id);

  it('is stable across picks and across balancers, whatever the target order', () => {
    const t = makeTargets([1, 1, 1, 1]);
    const first = owners(new IpHashBalancer(t));
    assert.deepEqual(owners(new IpHashBalancer(t)), first);
    assert.deepEqual(owners(new IpHashBalancer([...t].reverse())), first);
  });
  it('spreads keys by weight', () => {
    const t = makeTargets([1, 1, 2]);
    const b = new IpHashBalancer(t);
    let i = 0;
    const counts = tally(keys.length, () => b.pick(keys[i++]));
    assert.ok(Math.abs(counts.get(t[0]!.id)! / keys.length - 0.25) < 0.03);
    assert.ok(Math.abs(counts.get(t[2]!.id)! / keys.length - 0.5) < 0.03);
  });
  it('moves only a down target’s keys, deterministically, to several others', () => {
    const t = makeTargets([1, 1, 1, 1, 1]);
    const b = new IpHashBalancer(t);
    const before = owners(b);
    t[2]!.available = false;
    const after = owners(b);
    assert.deepEqual(owners(b), after, 'fallback is deterministic');
    const fallbacks = new Set<string>();
    for (let i = 0; i < keys.length; i++) {
      if (before[i] === t[2]!.id) fallbacks.add(after[i]!);
      else assert.equal(after[i], before[i]);
    }
    assert.equal(fallbacks.size, 4, 'a down target’s keys spread over all the others');
    assert.ok(!fallbacks.has(t[2]!.id));
    t[2]!.available = true;
    assert.deepEqual(owners(b), before, 'keys return when the target recovers');
  });
  it('round-robins when there is no key', () => {
    assert.deepEqual(names(new IpHashBalancer(makeTargets([1, 1, 1])), 4), ['0', '1', '2', '0']);
  });
});
