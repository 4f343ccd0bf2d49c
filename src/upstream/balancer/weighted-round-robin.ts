import { weightedTargets } from './common.ts';
import type { Balancer, BalancerTarget } from './types.ts';

/**
 * nginx's smooth weighted round robin: every pick adds each eligible target's weight to its
 * running score, takes the highest score and subtracts the eligible total from it. Weights 5,1,1
 * give a a b a c a a — the heavy target's turns are spread out instead of bunched. Unavailable
 * targets neither score nor count, so the remaining ones share their turns by weight.
 */
export class WeightedRoundRobinBalancer<T extends BalancerTarget> implements Balancer<T> {
  readonly algorithm = 'weighted-round-robin' as const;
  readonly #targets: T[];
  readonly #weights: Float64Array;
  readonly #current: Float64Array;

  constructor(targets: readonly T[]) {
    this.#targets = weightedTargets(targets);
    this.#weights = Float64Array.from(this.#targets, (t) => t.weight);
    this.#current = new Float64Array(this.#targets.length);
  }

  pick(_hashKey?: string, exclude?: T): T | undefined {
    const targets = this.#targets;
    const weights = this.#weights;
    const current = this.#current;
    let total = 0;
    let best = -1;
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i]!;
      if (!t.available || t === exclude) continue;
      current[i] += weights[i]!;
      total += weights[i]!;
      if (best < 0 || current[i]! > current[best]!) best = i;
    }
    if (best < 0) return undefined;
    current[best] -= total;
    return targets[best];
  }
}
