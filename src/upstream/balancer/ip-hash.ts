import { anyEligible, targetsById } from './common.ts';
import { fmix32, murmur3 } from './hash.ts';
import { RoundRobinBalancer } from './round-robin.ts';
import type { Balancer, BalancerTarget } from './types.ts';

/** Most slots in the table; weights are scaled down to fit (each target keeps at least one). */
const MAX_SLOTS = 8192;
/** Rehash attempts before the linear walk: they spread a down target's keys over all the others. */
const REHASHES = 16;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Integer weights reduced by their gcd and scaled so the total fits MAX_SLOTS. */
function slotWeights(weights: readonly number[]): number[] {
  let g = 0;
  for (const w of weights) g = gcd(g, Math.max(1, Math.round(w)));
  let reduced = weights.map((w) => Math.max(1, Math.round(w)) / g);
  const total = reduced.reduce((s, w) => s + w, 0);
  const cap = Math.max(MAX_SLOTS, weights.length);
  if (total > cap) reduced = reduced.map((w) => Math.max(1, Math.round((w * cap) / total)));
  return reduced;
}

/**
 * One smooth-weighted-round-robin cycle as a slot table: each target appears in proportion to its
 * weight, its slots spread out (so the final linear walk past a down target reaches varied
 * neighbours).
 */
export function buildSlots(weights: readonly number[]): Int32Array {
  const w = slotWeights(weights);
  const total = w.reduce((s, x) => s + x, 0);
  const current = new Float64Array(w.length);
  const slots = new Int32Array(total);
  for (let s = 0; s < total; s++) {
    let best = 0;
    for (let i = 0; i < w.length; i++) {
      current[i] += w[i]!;
      if (current[i]! > current[best]!) best = i;
    }
    current[best] -= total;
    slots[s] = best;
  }
  return slots;
}

/**
 * hash(key) mod a weighted slot table. Not consistent: adding or removing a target remaps most
 * keys (use consistent-hash for that). When the key's target is unavailable or excluded, the key
 * is rehashed a few times and then walks the following slots, so the same key always lands on the
 * same fallback, fallbacks spread by weight, and keys return home when their target recovers.
 * With no key (the configured header/cookie/… was missing) it behaves as round robin.
 */
export class IpHashBalancer<T extends BalancerTarget> implements Balancer<T> {
  readonly algorithm = 'ip-hash' as const;
  readonly #targets: T[];
  readonly #slots: Int32Array;
  readonly #fallback: RoundRobinBalancer<T>;

  constructor(targets: readonly T[]) {
    this.#targets = targetsById(targets);
    this.#slots = buildSlots(this.#targets.map((t) => t.weight));
    this.#fallback = new RoundRobinBalancer(targets);
  }

  pick(hashKey: string | undefined, exclude?: T): T | undefined {
    if (hashKey === undefined) return this.#fallback.pick(undefined, exclude);
    const targets = this.#targets;
    const slots = this.#slots;
    const n = slots.length;
    if (n === 0 || !anyEligible(targets, exclude)) return undefined;
    let h = murmur3(hashKey);
    for (let i = 0; i < REHASHES; i++) {
      const t = targets[slots[h % n]!]!;
      if (t.available && t !== exclude) return t;
      h = fmix32(h + 0x9e3779b9);
    }
    // Every target owns a slot, so with one eligible the walk ends within n steps.
    for (let i = 0, s = h % n; i < n; i++, s = s + 1 === n ? 0 : s + 1) {
      const t = targets[slots[s]!]!;
      if (t.available && t !== exclude) return t;
    }
    return undefined;
  }
}
