import type { MetricsJson } from '../observability/metrics.ts';
import type { Logger } from 'pino';
import type { LogLevel, LogModule } from '../config/schema/observability.ts';
import type { ConfigIssue } from '../config/index.ts';
import type { DiffEntry } from '../config/diff.ts';
import type { ConfigHistory } from '../config/history.ts';
import type { SummarySnapshot } from '../observability/summary.ts';
import type { PoolStats } from '../proxy/client/types.ts';
import type { ConfigManager } from '../runtime/config-manager.ts';
import type { Snapshot } from '../runtime/snapshot.ts';
import type { HealthOverride, OverlayState, TargetOverlay } from '../upstream/target-overlay.ts';
import type { ActiveHealth, HealthRegistry } from '../upstream/target-state.ts';
import type { AuditLog } from './audit-log.ts';
import type { ClusterResilience, ForcedCircuit } from '../cluster/circuits.ts';

export interface ListenerConnections {
  listener: string;
  address: string;
  open: number;
  total: number;
  /** Open WebSocket tunnels, and by route name. */
  websockets?: number;
  websocketsByRoute?: Record<string, number>;
}

/** Load on one target: requests in flight and its connection pool. */
export interface TargetLoad {
  inflight: number;
  /** Processes that have the target ejected by outlier detection now (per process: 0 or 1; summed over workers). */
  ejected?: number;
  pool: PoolStats;
}

export interface WorkerStatus {
  id: number;
  pid: number;
  status: 'forked' | 'starting' | 'up' | 'stopping';
  /** Config version the worker runs (the primary's numbering). */
  version: number;
  startedAt: string;
}

/**
 * Data-plane state as the admin API reads it: this process, or (multi-process mode) the sum over
 * every worker. Async because the workers are asked over IPC.
 */
export interface DataPlaneView {
  connections(): Promise<ListenerConnections[]>;
  /** Per target, keyed `${upstream} ${url}`. */
  targetLoad(): Promise<Map<string, TargetLoad>>;
  summary(): Promise<SummarySnapshot>;
  /** Pass a health override on to where traffic is served (the local snapshot is already updated). */
  setHealth(upstream: string, url: string, state: HealthOverride | 'auto'): Promise<void>;
  workers(): WorkerStatus[];
  /**
   * Multi-process only (the workers own the breakers and limiters): their state merged over the
   * workers. Absent in single-process mode, where the snapshot's own guards are read.
   */
  resilience?(): Promise<ClusterResilience>;
  /** Multi-process only: force a circuit in every worker, remembered for replacements and later configs. */
  forceCircuit?(upstream: string, target: string | undefined, state: ForcedCircuit | 'auto'): Promise<void>;
}

/** Effective log levels: the root logger's and each module's. */
export interface LogLevelsState {
  level: LogLevel;
  modules: Record<LogModule, LogLevel>;
}

export interface AppliedUpdate {
  /** The document as built (runtime overlays applied). */
  document: unknown;
  version: number;
  health: Record<string, HealthOverride>;
  /** Active health check results (checks run in the primary), keyed `${upstream} ${url}`. */
  activeHealth?: Record<string, ActiveHealth>;
  /** Circuits forced by the operator (multi-process: the primary remembers them), keyed by circuitKey(). */
  circuits?: Record<string, ForcedCircuit>;
  /** The primary's effective log levels (config plus runtime overrides): workers take exactly these. */
  logLevels?: LogLevelsState;
}

/** Worker processes serving traffic for a gateway that only runs the control plane (the primary). */
export interface RemoteDataPlane extends DataPlaneView {
  /** A config version is in force here: put it in force in every worker (bounded; never throws). */
  applied(update: AppliedUpdate): Promise<void>;
  /** Runtime log levels changed in the primary: put the same levels in force in every worker. */
  setLogLevels(levels: LogLevelsState): Promise<void>;
  /** Active health check results changed in the primary: put them in force in every worker. */
  activeHealth(states: Record<string, ActiveHealth>): Promise<void>;
  /** At least one worker serves traffic. */
  ready(): boolean;
  /** Drain every worker (the drain delay has passed already) and wait until they exit. */
  stop(deadlineMs: number): Promise<void>;
  /** Each worker's data-plane metrics (getMetricsAsJSON), to be summed for /metrics. */
  metrics(): Promise<MetricsJson[]>;
}

/** Everything the admin resources read or change, handed over by the gateway. */
export interface ControlPlane {
  readonly manager: ConfigManager;
  readonly history: ConfigHistory;
  readonly audit: AuditLog;
  readonly overlay: TargetOverlay;
  /** Target health as this process sees it (active checks, overrides; outlier ejection in single-process mode). */
  readonly health: HealthRegistry;
  readonly data: DataPlaneView;
  readonly logger: Logger;
  current(): Snapshot;
  /** The document with every secret replaced by "[redacted]". */
  redact(document: unknown): unknown;
  diff(from: unknown, to: unknown): DiffEntry[];
  /** Apply the config with a candidate target overlay; it is kept only when the config applies. */
  applyOverlay(actor: string, next: OverlayState): Promise<{ ok: true; version: number } | { ok: false; errors: ConfigIssue[] }>;
  /** Record a health override (persisted) and put it in force everywhere. */
  setTargetHealth(upstream: string, url: string, state: HealthOverride | 'auto'): Promise<void>;
  /** Runtime level of the root logger, or of one module; in multi-process mode the workers follow. */
  setLogLevel(level: LogLevel, module?: LogModule): Promise<void>;
  logLevels(): LogLevelsState;
  readiness(): { ready: boolean; draining: boolean };
}
