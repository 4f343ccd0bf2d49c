import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConsistentHashBalancer } from './consistent-hash.ts';
import { MaglevTable } from './maglev.ts';
import { makeTargets, type TestTarget } from './test-helpers.test.ts';
import { isPrime } from './hash.ts';

const keys = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
const owners = (b: ConsistentHashBalancer<TestTarget>): string[] => keys.map((k) => b.pick(k)!.id);

function shares(ids: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1 / ids.length);
  return m;
}

for (const ring of ['maglev', 'ketama'] as const) {
  describe(`consistent-hash (${ring})`, () => {
    const build = (t: readonly TestTarget[]) => new ConsistentHashBalancer(t, { ring });

    it('spreads keys evenly over equal targets', () => {
      const s = shares(owners(build(makeTargets(Array(10).fill(1)))));
      assert.equal(s.size, 10);
      for (const [id, share] of s) assert.ok(Math.abs(share - 0.1) < 0.03, `${id}: ${share}`);
    });

    it('respects weights', () => {
      const t = makeTargets([1, 2, 3, 2]);
      const s = shares(owners(build(t)));
      t.forEach((x) => assert.ok(Math.abs(s.get(x.id)! - x.weight / 8) < 0.04, `${x.id}: ${s.get(x.id)}`));
    });

    it('does not depend on target order', () => {
      const t = makeTargets(Array(7).fill(1));
      assert.deepEqual(owners(build([...t].reverse())), owners(build(t)));
    });

    it('remaps minimally when a target is removed', () => {
      const t = makeTargets(Array(10).fill(1));
      const before = owners(build(t));
      const gone = t[3]!.id;
      const after = owners(build(t.filter((x) => x.id !== gone)));
      let moved = 0;
      let others = 0;
      let othersMoved = 0;
      for (let i = 0; i < keys.length; i++) {
        if (after[i] !== before[i]) moved++;
        if (before[i] !== gone) {
          others++;
          if (after[i] !== before[i]) othersMoved++;
        }
      }
      assert.ok(moved / keys.length > 0.06 && moved / keys.length < 0.15, `moved ${moved}`);
      // Ketama moves none of them; Maglev a few (its table is rebuilt, not patched).
      assert.ok(othersMoved / others < (ring === 'ketama' ? 0.001 : 0.03), `${othersMoved} of ${others} other keys moved`);
    });

    it('remaps minimally when a target is added, mostly onto the new one', () => {
      const t = makeTargets(Array(10).fill(1));
      const before = owners(build(t));
      const added = makeTargets([1], 'http://10.0.1.')[0]!;
      const after = owners(build([...t, added]));
      let moved = 0;
      let toNew = 0;
      for (let i = 0; i < keys.length; i++) {
        if (after[i] === before[i]) continue;
        moved++;
        if (after[i] === added.id) toNew++;
      }
      assert.ok(moved / keys.length > 0.05 && moved / keys.length < 0.14, `moved ${moved}, expected ≈ 1/11`);
      assert.ok(toNew / moved > 0.9, `${toNew} of ${moved} moved keys went to the new target`);
    });

    it('falls back deterministically from an unavailable or excluded target, others unaffected', () => {
      const t = makeTargets(Array(8).fill(1));
      const b = build(t);
      const before = owners(b);
      t[5]!.available = false;
      const after = owners(b);
      assert.deepEqual(owners(b), after, 'same fallback every time');
      const fallbacks = new Set<string>();
      for (let i = 0; i < keys.length; i++) {
        if (before[i] === t[5]!.id) fallbacks.add(after[i]!);
        else assert.equal(after[i], before[i]);
      }
      assert.ok(fallbacks.size >= 4 && !fallbacks.has(t[5]!.id), `fallbacks ${fallbacks.size}`);
      t[5]!.available = true;
      assert.deepEqual(owners(b), before, 'keys return when the target recovers');
      const key = keys.find((_, i) => before[i] === t[5]!.id)!;
      assert.equal(b.pick(key, t[5]), b.pick(key, t[5]));
      assert.notEqual(b.pick(key, t[5]), t[5]);
      assert.equal(b.owner(key), t[5]);
    });

    it('round-robins when there is no key', () => {
      const t = makeTargets([1, 1, 1]);
      const b = build(t);
      assert.deepEqual([b.pick(undefined), b.pick(undefined), b.pick(undefined), b.pick(undefined)], [t[0], t[1], t[2], t[0]]);
    });
  });
}

describe('maglev table', () => {
  it('has a prime size of at least 100 × targets', () => {
    assert.equal(new MaglevTable(['a', 'b'], [1, 1]).owners.length, 65537);
    const size = new MaglevTable(['a', 'b', 'c'], [1, 1, 1], 1000).owners.length;
    assert.ok(isPrime(size) && size >= 1000, `size ${size}`);
    const big = new MaglevTable(Array.from({ length: 20 }, (_, i) => `t${i}`), Array(20).fill(1), 1000).owners.length;
    assert.ok(isPrime(big) && big >= 2000, `size ${big}`);
  });
  it('fills every slot, and a tiny weight still owns one', () => {
    const table = new MaglevTable(['heavy-a', 'heavy-b', 'light'], [10_000, 10_000, 1], 1009);
    assert.ok(table.owners.every((o) => o >= 0 && o < 3));
    assert.ok(table.owners.includes(2));
  });
});
