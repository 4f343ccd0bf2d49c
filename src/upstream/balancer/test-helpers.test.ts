import type { BalancerTarget } from './types.ts';

/** Shared test helpers. Named *.test.ts so the build leaves it out; it declares no tests itself. */
export interface TestTarget extends BalancerTarget {
  id: string;
  weight: number;
}

export function makeTargets(weights: readonly number[], prefix = 'http://10.0.0.'): TestTarget[] {
  return weights.map((weight, i) => ({ id: `${prefix}${i}:8080`, weight, inflight: 0, available: true }));
}

/** Deterministic PRNG (mulberry32) so distribution tests never flake. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How many times each target id was picked in `n` picks. */
export function tally(n: number, pick: () => BalancerTarget | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const t = pick();
    if (t === undefined) throw new Error('pick returned undefined');
    counts.set(t.id, (counts.get(t.id) ?? 0) + 1);
  }
  return counts;
}
