import { weightedTargets } from './common.ts';
import type { Balancer, BalancerTarget } from './types.ts';

/**
 * Weighted random sampling over a fixed target list, without allocating per pick.
 *
 * Fast path: draw from the full weight distribution (binary search over cumulative weights) and
 * accept if the target is eligible. Otherwise draw exactly from the eligible targets with one
 * linear pass. Accept-or-redraw-exactly yields precisely weight / (eligible weight) per target.
 */
export class WeightedSampler<T extends BalancerTarget> {
  readonly targets: T[];
  readonly #cumulative: Float64Array;
  readonly #total: number;
  readonly #random: () => number;

  constructor(targets: readonly T[], random: () => number = Math.random) {
    this.targets = weightedTargets(targets);
    this.#cumulative = new Float64Array(this.targets.length);
    let sum = 0;
    for (let i = 0; i < this.targets.length; i++) this.#cumulative[i] = sum += this.targets[i]!.weight;
    this.#total = sum;
    this.#random = random;
  }

  /** A weighted-random eligible target that is neither `exclude` nor `also`, or -1 if none. */
  sample(exclude: T | undefined, also: T | undefined): number {
    const targets = this.targets;
    if (targets.length === 0) return -1;
    const first = this.#search(this.#random() * this.#total);
    const t = targets[first]!;
    if (t.available && t !== exclude && t !== also) return first;
    let eligibleTotal = 0;
    for (let i = 0; i < targets.length; i++) {
      const c = targets[i]!;
      if (c.available && c !== exclude && c !== also) eligibleTotal += c.weight;
    }
    if (eligibleTotal === 0) return -1;
    let r = this.#random() * eligibleTotal;
    let last = -1;
    for (let i = 0; i < targets.length; i++) {
      const c = targets[i]!;
      if (!c.available || c === exclude || c === also) continue;
      last = i;
      r -= c.weight;
      if (r < 0) return i;
    }
    return last; // floating-point residue: the last eligible target
  }

  /** First index whose cumulative weight exceeds r. */
  #search(r: number): number {
    const cum = this.#cumulative;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** Weighted random: each eligible target is picked with probability weight / eligible weight. */
export class RandomBalancer<T extends BalancerTarget> implements Balancer<T> {
  readonly algorithm = 'random' as const;
  readonly #sampler: WeightedSampler<T>;

  constructor(targets: readonly T[], random?: () => number) {
    this.#sampler = new WeightedSampler(targets, random);
  }

  pick(_hashKey?: string, exclude?: T): T | undefined {
    const i = this.#sampler.sample(exclude, undefined);
    return i < 0 ? undefined : this.#sampler.targets[i];
  }
}
