import type { SummarySnapshot } from '../observability/summary.ts';

export interface UpstreamHealthInput {
  name: string;
  targets: Array<{ url: string; available: boolean; inflight: number }>;
}

export type HealthStatus = 'ok' | 'degraded' | 'critical' | 'idle';

export interface UpstreamHealth {
  status: HealthStatus;
  targets: number;
  availableTargets: number;
  requestsInFlight: number;
  /** Share of the last minute's requests answered with 5xx (or not at all). */
  errorRate1m: number;
  p99Ms1m: number | null;
  reasons: string[];
}

export interface HealthIndicators {
  status: HealthStatus;
  upstreams: Record<string, UpstreamHealth>;
}

/** Error rates above these over the last minute make an upstream degraded / critical. */
export const DEGRADED_ERROR_RATE = 0.05;
export const CRITICAL_ERROR_RATE = 0.5;

const RANK: Record<HealthStatus, number> = { idle: 0, ok: 1, degraded: 2, critical: 3 };

/**
 * Health indicators for the admin summary: per upstream, its targets in rotation and the last
 * minute's error rate from the same figures as the summary — critical with no available target or
 * ≥ 50% errors, degraded with a target out of rotation or ≥ 5% errors, idle without traffic.
 */
export function healthIndicators(summary: SummarySnapshot, upstreams: readonly UpstreamHealthInput[]): HealthIndicators {
  const out: Record<string, UpstreamHealth> = {};
  let overall: HealthStatus = 'idle';
  for (const u of upstreams) {
    const window = summary.upstreams[u.name]?.['1m'];
    const available = u.targets.filter((t) => t.available).length;
    const errorRate = window?.errorRate ?? 0;
    const reasons: string[] = [];
    let status: HealthStatus = window === undefined || window.requests === 0 ? 'idle' : 'ok';
    const raise = (to: HealthStatus, why: string): void => {
      reasons.push(why);
      if (RANK[to] > RANK[status]) status = to;
    };
    if (u.targets.length > 0 && available === 0) raise('critical', 'no target available');
    else if (available < u.targets.length) raise('degraded', `${u.targets.length - available} of ${u.targets.length} targets out of rotation`);
    if (errorRate >= CRITICAL_ERROR_RATE) raise('critical', `error rate ${(errorRate * 100).toFixed(1)}% over 1m`);
    else if (errorRate >= DEGRADED_ERROR_RATE) raise('degraded', `error rate ${(errorRate * 100).toFixed(1)}% over 1m`);
    out[u.name] = {
      status,
      targets: u.targets.length,
      availableTargets: available,
      requestsInFlight: u.targets.reduce((n, t) => n + t.inflight, 0),
      errorRate1m: errorRate,
      p99Ms1m: window?.p99Ms ?? null,
      reasons,
    };
    if (RANK[status] > RANK[overall]) overall = status;
  }
  return { status: overall, upstreams: out };
}
