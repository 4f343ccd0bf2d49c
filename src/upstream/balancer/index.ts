import type { BalancerConfig } from '../../config/schema/index.ts';
import { ConsistentHashBalancer } from './consistent-hash.ts';
import { IpHashBalancer } from './ip-hash.ts';
import { LeastConnectionsBalancer } from './least-connections.ts';
import { P2cBalancer } from './p2c.ts';
import { RandomBalancer } from './random.ts';
import { RoundRobinBalancer } from './round-robin.ts';
import type { Balancer, BalancerFactory, BalancerOptions, BalancerTarget } from './types.ts';
import { WeightedRoundRobinBalancer } from './weighted-round-robin.ts';

export type { Balancer, BalancerFactory, BalancerOptions, BalancerTarget } from './types.ts';
export { compileHashKey, type HashKeyExtractor, type HashKeyInput } from './hash-key.ts';
export { ConsistentHashBalancer } from './consistent-hash.ts';
export { IpHashBalancer } from './ip-hash.ts';
export { LeastConnectionsBalancer } from './least-connections.ts';
export { P2cBalancer } from './p2c.ts';
export { RandomBalancer } from './random.ts';
export { RoundRobinBalancer } from './round-robin.ts';
export { WeightedRoundRobinBalancer } from './weighted-round-robin.ts';

/**
 * Build the balancer for one upstream in one snapshot. `targets` is fixed for the balancer's life
 * (a target set change means a new snapshot and a new balancer); `available` and `inflight` are
 * read live on every pick. Targets with weight 0 are never picked.
 */
export function createBalancer<T extends BalancerTarget>(
  targets: readonly T[],
  config: BalancerConfig,
  options: BalancerOptions = {},
): Balancer<T> {
  switch (config.algorithm ?? 'round-robin') {
    case 'round-robin':
      return new RoundRobinBalancer(targets);
    case 'weighted-round-robin':
      return new WeightedRoundRobinBalancer(targets);
    case 'least-connections':
      return new LeastConnectionsBalancer(targets);
    case 'random':
      return new RandomBalancer(targets, options.random);
    case 'p2c':
      return new P2cBalancer(targets, options.random);
    case 'ip-hash':
      return new IpHashBalancer(targets);
    case 'consistent-hash':
      return new ConsistentHashBalancer(targets, {
        ring: config.ring ?? 'maglev',
        maglevTableSize: options.maglevTableSize,
        ketamaPoints: options.ketamaPoints,
      });
    default: {
      const unknown: string = String(config.algorithm);
      throw new Error(`unknown balancer algorithm: ${String(unknown)}`);
    }
  }
}

// Compile-time check that createBalancer satisfies the shared factory type.
export const balancerFactory: BalancerFactory = createBalancer;
