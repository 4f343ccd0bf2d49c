import type { BalancerTarget } from './types.ts';

/** Weight 0 (or a nonsensical weight) drains a target: no algorithm ever picks it. */
export function hasWeight(t: BalancerTarget): boolean {
  return Number.isFinite(t.weight) && t.weight > 0;
}

/** The pickable targets, in their given order. Built once per balancer. */
export function weightedTargets<T extends BalancerTarget>(targets: readonly T[]): T[] {
  return targets.filter(hasWeight);
}

/**
 * The pickable targets ordered by id, so hash tables do not depend on the order targets were
 * listed or discovered in. Stable sort keeps duplicate ids in input order.
 */
export function targetsById<T extends BalancerTarget>(targets: readonly T[]): T[] {
  return weightedTargets(targets).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Can `t` take this request? (Weight is checked once at construction, not here.) */
export function eligible<T extends BalancerTarget>(t: T, exclude: T | undefined): boolean {
  return t.available && t !== exclude;
}

/** Is any of `targets` eligible? Guards the table walks so they never spin over a dead table. */
export function anyEligible<T extends BalancerTarget>(targets: readonly T[], exclude: T | undefined): boolean {
  for (let i = 0; i < targets.length; i++) if (targets[i]!.available && targets[i] !== exclude) return true;
  return false;
}
