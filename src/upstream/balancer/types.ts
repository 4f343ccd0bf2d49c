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
