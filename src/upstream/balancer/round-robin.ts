import { weightedTargets } from './common.ts';
import type { Balancer, BalancerTarget } from './types.ts';

/**
 * Plain round robin over targets with weight > 0, weights otherwise ignored. Unavailable and
 * excluded targets are skipped; the cursor resumes after the target picked, so a skipped target's
 * turn goes to the next one rather than restarting the cycle.
 */
export class RoundRobinBalancer<T extends BalancerTarget> implements Balancer<T> {
  readonly algorithm = 'round-robin' as const;
  readonly #targets: T[];
  #next = 0;

  constructor(targets: readonly T[]) {
    this.#targets = weightedTargets(targets);
  }

  pick(_hashKey?: string, exclude?: T): T | undefined {
    const targets = this.#targets;
    const n = targets.length;
    let idx = this.#next;
    for (let i = 0; i < n; i++, idx++) {
      if (idx >= n) idx = 0;
      const t = targets[idx]!;
      if (t.available && t !== exclude) {
        this.#next = idx + 1 === n ? 0 : idx + 1;
        return t;
      }
    }
    return undefined;
  }
}
