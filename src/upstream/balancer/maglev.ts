import { murmur3, nextPrime } from './hash.ts';

const OFFSET_SEED = 0x9747b28c;
const SKIP_SEED = 0x5bd1e995;
export const DEFAULT_MAGLEV_SIZE = 65537;

/**
 * Maglev lookup table (Eisenbud et al., NSDI 2016), weighted. Each target walks its own
 * permutation of the slots, derived only from its id, and claims the next free slot on its turn;
 * turns come in proportion to weight. Because a target's preferences do not depend on the others,
 * adding or removing one moves few slots beyond the ones it gains or loses.
 */
export class MaglevTable {
  /** Target index (into the ids given) owning each slot. */
  readonly owners: Int32Array;

  constructor(ids: readonly string[], weights: readonly number[], size = DEFAULT_MAGLEV_SIZE) {
    // The paper wants size ≫ targets (≥ 100×) for even shares; the size must be prime so every skip
    // generates a full permutation.
    const m = ids.length === 0 ? 0 : nextPrime(Math.max(size, ids.length * 100, 3));
    this.owners = m === 0 ? new Int32Array(0) : populate(ids, weights, m);
  }

  /** The slot a key hash maps to; the caller walks slot + 1, … when its owner cannot serve. */
  slot(hash: number): number {
    return hash % this.owners.length;
  }
}

function populate(ids: readonly string[], weights: readonly number[], m: number): Int32Array {
  const n = ids.length;
  const table = new Int32Array(m).fill(-1);
  const pos = new Float64Array(n);
  const skip = new Float64Array(n);
  const credit = new Float64Array(n);
  let maxW = 0;
  for (let i = 0; i < n; i++) maxW = Math.max(maxW, weights[i]!);
  for (let i = 0; i < n; i++) {
    pos[i] = murmur3(ids[i]!, OFFSET_SEED) % m;
    skip[i] = (murmur3(ids[i]!, SKIP_SEED) % (m - 1)) + 1;
    // Start every target with a full turn so even a tiny weight owns at least one slot.
    credit[i] = maxW - weights[i]!;
  }
  let filled = 0;
  for (;;) {
    for (let i = 0; i < n; i++) {
      credit[i] += weights[i]!;
      if (credit[i]! < maxW) continue;
      credit[i] -= maxW;
      let c = pos[i]!;
      while (table[c]! >= 0) c = (c + skip[i]!) % m;
      table[c] = i;
      pos[i] = (c + skip[i]!) % m;
      if (++filled === m) return table;
    }
  }
}
