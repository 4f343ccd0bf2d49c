import { weightedTargets } from './common.ts';
import type { Balancer, BalancerTarget } from './types.ts';

/**
 * Fewest requests in flight relative to weight (inflight / weight, compared by cross-multiplying
 * so no division). The scan starts one past the previous pick, so among equally loaded targets —
 * e.g. an idle upstream — the choice rotates instead of always landing on the first.
 */
export class LeastConnectionsBalancer<T extends BalancerTarget> implements Balancer<T> {
  readonly algorithm = 'least-connections' as const;
  readonly #targets: T[];
  readonly #weights: Float64Array;
  #next = 0;

  constructor(targets: readonly T[]) {
    this.#targets = weightedTargets(targets);
    this.#weights = Float64Array.from(this.#targets, (t) => t.weight);
  }

  pick(_hashKey?: string, exclude?: T): T | undefined {
    const targets = this.#targets;
    const weights = this.#weights;
    const n = targets.length;
    let best = -1;
    let idx = this.#next;
    for (let i = 0; i < n; i++, idx++) {
      if (idx >= n) idx = 0;
      const t = targets[idx]!;
      if (!t.available || t === exclude) continue;
      // t.inflight / w < best.inflight / bestW  ⇔  t.inflight * bestW < best.inflight * w
      if (best < 0 || t.inflight * weights[best]! < targets[best]!.inflight * weights[idx]!) best = idx;
    }
    if (best < 0) return undefined;
    this.#next = best + 1 === n ? 0 : best + 1;
    return targets[best];
  }
}
