import type { BalancerConfig } from '../../config/schema/index.ts';

/** The view of a target a balancer needs. The upstream keeps these fields current. */
export interface BalancerTarget {
  /** Stable identity across snapshots (the target URL): consistent hashing keys on it. */
  readonly id: string;
  readonly weight: number;
  /** Requests in flight to this target right now (maintained by the proxy). */
  inflight: number;
  /** False while the target is unhealthy, ejected or its breaker is open: never picked then. */
  available: boolean;
}

export interface Balancer<T extends BalancerTarget = BalancerTarget> {
  readonly algorithm: BalancerConfig['algorithm'];
  /**
   * Choose a target, or undefined when none is available. `hashKey` is used by the hashing
   * algorithms (ip-hash, consistent-hash); `exclude` is a target already tried (retries).
   */
  pick(hashKey: string | undefined, exclude?: T): T | undefined;
}

export type BalancerFactory = <T extends BalancerTarget>(targets: readonly T[], config: BalancerConfig) => Balancer<T>;

/** Construction options beyond the config; tests use them for determinism. */
export interface BalancerOptions {
  /** Uniform random source in [0, 1) for random and p2c. Default Math.random. */
  random?: () => number;
  /** Maglev lookup-table size; rounded up to a prime ≥ 100 × targets. Default 65537. */
  maglevTableSize?: number;
  /** Ketama points for a target of the largest weight (others get proportionally fewer). Default 160. */
  ketamaPoints?: number;
}
