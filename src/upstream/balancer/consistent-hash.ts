import { anyEligible, targetsById } from './common.ts';
import { murmur3 } from './hash.ts';
import { KetamaRing } from './ketama.ts';
import { MaglevTable } from './maglev.ts';
import { RoundRobinBalancer } from './round-robin.ts';
import type { Balancer, BalancerTarget } from './types.ts';

export interface ConsistentHashOptions {
  ring?: 'maglev' | 'ketama';
  maglevTableSize?: number;
  ketamaPoints?: number;
}

/**
 * Consistent hashing on target ids over a Maglev table (default) or a ketama ring. Tables are
 * built from the targets sorted by id, so listing order does not matter and two gateways with the
 * same targets agree. An unavailable or excluded owner hands the key to the next slot / ring node
 * with an eligible owner — deterministic, and the key returns home when its target recovers.
 * With no key (the configured header/cookie/… was missing) it behaves as round robin.
 */
export class ConsistentHashBalancer<T extends BalancerTarget> implements Balancer<T> {
  readonly algorithm = 'consistent-hash' as const;
  readonly ring: 'maglev' | 'ketama';
  readonly #targets: T[];
  readonly #table: MaglevTable | KetamaRing;
  readonly #owners: Int32Array;
  readonly #fallback: RoundRobinBalancer<T>;

  constructor(targets: readonly T[], options: ConsistentHashOptions = {}) {
    this.ring = options.ring ?? 'maglev';
    this.#targets = targetsById(targets);
    const ids = this.#targets.map((t) => t.id);
    const weights = this.#targets.map((t) => t.weight);
    this.#table = this.ring === 'ketama' ? new KetamaRing(ids, weights, options.ketamaPoints) : new MaglevTable(ids, weights, options.maglevTableSize);
    this.#owners = this.#table.owners;
    this.#fallback = new RoundRobinBalancer(targets);
  }

  pick(hashKey: string | undefined, exclude?: T): T | undefined {
    if (hashKey === undefined) return this.#fallback.pick(undefined, exclude);
    const owners = this.#owners;
    const n = owners.length;
    if (n === 0 || !anyEligible(this.#targets, exclude)) return undefined;
    let s = this.#table.slot(murmur3(hashKey));
    // Every target owns at least one slot, so an eligible owner is found within n steps.
    for (let i = 0; i < n; i++) {
      const t = this.#targets[owners[s]!]!;
      if (t.available && t !== exclude) return t;
      if (++s === n) s = 0;
    }
    return undefined;
  }

  /** The target owning `hashKey` in the table, ignoring availability (diagnostics and tests). */
  owner(hashKey: string): T | undefined {
    const n = this.#owners.length;
    return n === 0 ? undefined : this.#targets[this.#owners[this.#table.slot(murmur3(hashKey))]!];
  }
}
