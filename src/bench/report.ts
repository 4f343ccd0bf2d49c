/**
 * Turns per-run records into the summary: medians over reps (robust to the large run-to-run spread
 * on shared machines), the min–max spread, and each target's ratio to `direct` in the same run.
 */
import type { LoadResult } from './load-generator.ts';

/** One scenario against one target in one rep. */
export interface RunRecord {
  rep: number;
  target: string;
  scenario: string;
  /** Set when the target could not be started or failed its sanity check. */
  failure?: string;
  load?: LoadResult;
  /** Gateway CPU over the measured window, % of one core (null: direct or unknown). */
  gatewayCpuPct: number | null;
  /** Busy % of the load core (load generator + upstream) over the measured window, pinned runs
   *  only: near 100 means the load side, not the target, was the limit. */
  loadCpuPct: number | null;
  /** Busy % of core 0 and core 1 (pinned runs): with gatewayCpuPct, shows other processes' share. */
  coreBusyPct?: Array<number | null> | null;
  /** Upstream connections accepted during the measured window. */
  upstreamConnections: number | null;
}

export interface SummaryRow {
  scenario: string;
  target: string;
  reps: number;
  failed: number;
  rps: number;
  rpsMin: number;
  rpsMax: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  ratioToDirect: number | null;
  gatewayCpuPct: number | null;
  loadCpuPct: number | null;
  upstreamConnections: number | null;
}

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** Median; the mean of the middle two for an even count. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function medianOrNull(xs: Array<number | null>): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : median(v);
}

export function summarize(records: readonly RunRecord[], scenarios: string[], targets: string[]): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const scenario of scenarios) {
    const direct = records.filter((r) => r.scenario === scenario && r.target === 'direct' && r.load);
    const directRps = direct.length ? median(direct.map((r) => r.load!.rps)) : null;
    for (const target of targets) {
      const all = records.filter((r) => r.scenario === scenario && r.target === target);
      if (all.length === 0) continue; // not reached (interrupted run)
      const ok = all.filter((r) => r.load);
      const loads = ok.map((r) => r.load!);
      const rpss = loads.map((l) => l.rps);
      const rps = loads.length ? median(rpss) : NaN;
      rows.push({
        scenario, target, reps: all.length, failed: all.length - ok.length,
        rps, rpsMin: Math.min(...rpss), rpsMax: Math.max(...rpss),
        p50Ms: median(loads.map((l) => l.latencyMs.p50)),
        p99Ms: median(loads.map((l) => l.latencyMs.p99)),
        errors: loads.reduce((a, l) => a + l.errorTotal, 0),
        non2xx: loads.reduce((a, l) => a + l.non2xx, 0),
        ratioToDirect: directRps && loads.length ? rps / directRps : null,
        gatewayCpuPct: medianOrNull(ok.map((r) => r.gatewayCpuPct)),
        loadCpuPct: medianOrNull(ok.map((r) => r.loadCpuPct)),
        upstreamConnections: medianOrNull(ok.map((r) => r.upstreamConnections)),
      });
    }
  }
  return rows;
}

/** 12345.6 -> "12,346"; NaN/null -> "–". */
export function fmtInt(v: number | null): string {
  return v === null || !Number.isFinite(v) ? '–' : Math.round(v).toLocaleString('en-US');
}

export function fmtFixed(v: number | null, digits: number): string {
  return v === null || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

/** (max − min) / median as ±%, only meaningful with more than one rep. */
function spread(r: SummaryRow): string {
  if (r.reps - r.failed < 2 || !(r.rps > 0)) return '–';
  return `${Math.round(((r.rpsMax - r.rpsMin) / r.rps) * 100)} %`;
}

export function markdownTable(rows: readonly SummaryRow[]): string {
  const head = [
    'scenario', 'target', 'req/s', 'spread', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', '× direct',
    'gw CPU %', 'load core %', 'up conns',
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${['---', '---', ...head.slice(2).map(() => '---:')].join('|')}|`];
  for (const r of rows) {
    const failed = r.failed > 0 ? ` (${r.failed}/${r.reps} failed)` : '';
    lines.push(`| ${[
      r.scenario, r.target + failed, fmtInt(r.rps), spread(r), fmtFixed(r.p50Ms, 2), fmtFixed(r.p99Ms, 2),
      fmtInt(r.errors), fmtInt(r.non2xx), fmtFixed(r.ratioToDirect, 2), fmtInt(r.gatewayCpuPct),
      fmtInt(r.loadCpuPct), fmtInt(r.upstreamConnections),
    ].join(' | ')} |`);
  }
  return lines.join('\n');
}
