import type { OutlierDetectionConfig } from '../../config/schema/index.ts';
import { parseDuration } from '../../config/units.ts';
import type { AttemptOutcome } from '../outcome.ts';

/** Outlier detection settings with defaults applied (compiled once per config apply). */
export interface OutlierPolicy {
  enabled: boolean;
  consecutive5xx: number;
  consecutiveGatewayErrors: number;
  baseEjectionMs: number;
  maxEjectionMs: number;
  maxEjectionPercent: number;
}

/** Defaults: on for every upstream, so losing a target costs only the requests in flight on it. */
export function outlierPolicy(config: OutlierDetectionConfig | undefined): OutlierPolicy {
  const c = config ?? {};
  return {
    enabled: c.enabled ?? true,
    consecutive5xx: c.consecutive5xx ?? 0,
    consecutiveGatewayErrors: c.consecutiveGatewayErrors ?? 5,
    baseEjectionMs: parseDuration(c.baseEjectionTime ?? '5s'),
    maxEjectionMs: parseDuration(c.maxEjectionTime ?? '30s'),
    maxEjectionPercent: c.maxEjectionPercent ?? 50,
  };
}

/** Per-target run lengths of failures (reset by any success). */
export interface OutlierCounters {
  consecutive5xx: number;
  consecutiveGateway: number;
}

/**
 * Count one attempt; true when a threshold is reached (the caller decides whether ejecting is
 * allowed). Gateway failures are connect failures, resets, timeouts and 502/503/504 answers; every
 * gateway failure is a 5xx too. Cancelled attempts say nothing about the target.
 */
export function countOutcome(counters: OutlierCounters, outcome: AttemptOutcome, policy: OutlierPolicy): boolean {
  switch (outcome.kind) {
    case 'cancelled':
      return false;
    case 'success':
      counters.consecutive5xx = 0;
      counters.consecutiveGateway = 0;
      return false;
    case 'server-error': {
      counters.consecutive5xx++;
      const s = outcome.status;
      if (s === 502 || s === 503 || s === 504) counters.consecutiveGateway++;
      else counters.consecutiveGateway = 0;
      break;
    }
    default:
      counters.consecutive5xx++;
      counters.consecutiveGateway++;
  }
  return (
    (policy.consecutive5xx > 0 && counters.consecutive5xx >= policy.consecutive5xx) ||
    (policy.consecutiveGatewayErrors > 0 && counters.consecutiveGateway >= policy.consecutiveGatewayErrors)
  );
}

/** How long the n-th ejection in a row lasts: base × n, capped. */
export function ejectionMs(policy: OutlierPolicy, ejections: number): number {
  return Math.min(policy.baseEjectionMs * ejections, policy.maxEjectionMs);
}

/** Most targets of `total` that may be ejected at once (rounded down: one of one is never ejected at 50 %). */
export function maxEjected(policy: OutlierPolicy, total: number): number {
  return Math.floor((total * policy.maxEjectionPercent) / 100);
}
