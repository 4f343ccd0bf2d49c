import type { GatewayMetrics, MetricsJson } from '../observability/metrics.ts';
import type { RequestSummary, SerializedSummary } from '../observability/summary.ts';
import type { Snapshot } from '../runtime/snapshot.ts';
import type { ListenerSet } from '../server/listener-set.ts';
import type { DataPlaneView, ListenerConnections, TargetLoad } from './control-plane.ts';

/** This process's data-plane state, read synchronously (a worker answers the primary with it). */
export interface LocalDataPlane {
  connections(): ListenerConnections[];
  targetLoad(): Array<[string, TargetLoad]>;
  exportSummary(): SerializedSummary;
  /** This process's data-plane metrics, for the primary to sum. */
  exportMetrics(): Promise<MetricsJson>;
}

export function localDataPlane(listeners: ListenerSet, current: () => Snapshot, summary: RequestSummary, metrics: GatewayMetrics): LocalDataPlane {
  return {
    connections: () => listeners.connections(),
    targetLoad() {
      const loads: Array<[string, TargetLoad]> = [];
      for (const upstream of current().upstreams.values()) {
        for (const t of upstream.targets) loads.push([`${upstream.name} ${t.id}`, { inflight: t.inflight, ejected: t.health?.ejected === true ? 1 : 0, pool: t.pool.stats() }]);
      }
      return loads;
    },
    exportSummary: () => summary.exportState(),
    exportMetrics: () => metrics.exportData(),
  };
}

/** The admin API's view in single-process mode: everything is here. */
export function localView(local: LocalDataPlane, current: () => Snapshot, summary: RequestSummary): DataPlaneView {
  const startedAt = new Date().toISOString();
  return {
    connections: async () => local.connections(),
    targetLoad: async () => new Map(local.targetLoad()),
    summary: async () => summary.snapshot(),
    // The caller has updated the local snapshot; there is nowhere else to tell.
    setHealth: async () => undefined,
    workers: () => [{ id: 0, pid: process.pid, status: 'up', version: current().version, startedAt }],
  };
}
