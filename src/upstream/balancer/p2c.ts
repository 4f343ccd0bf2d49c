import { WeightedSampler } from './random.ts';
import type { Balancer, BalancerTarget } from './types.ts';

/**
 * Power of two random choices: draw two distinct eligible targets by weight and take the one with
 * less load (inflight / weight). Ties go to the first draw, so an idle upstream is balanced by
 * weight exactly like `random`; under load it steers away from busy targets without the herd
 * effect of always choosing the global minimum from possibly stale counts.
 */
export class P2cBalancer<T extends BalancerTarget> implements Balancer<T> {
  readonly algorithm = 'p2c' as const;
  readonly #sampler: WeightedSampler<T>;

  constructor(targets: readonly T[], random?: () => number) {
    this.#sampler = new WeightedSampler(targets, random);
  }

  pick(_hashKey?: string, exclude?: T): T | undefined {
    const targets = this.#sampler.targets;
    const i = this.#sampler.sample(exclude, undefined);
    if (i < 0) return undefined;
    const a = targets[i]!;
    const j = this.#sampler.sample(exclude, a);
    if (j < 0) return a;
    const b = targets[j]!;
    // b.inflight / b.weight < a.inflight / a.weight, without division
    return b.inflight * a.weight < a.inflight * b.weight ? b : a;
  }
}
