import type { Logger } from 'pino';
import type { ConfigIssue } from '../config/index.ts';
import type { DiffEntry } from '../config/diff.ts';
import type { ConfigHistory } from '../config/history.ts';
import type { RequestSummary } from '../observability/summary.ts';
import type { ConfigManager } from '../runtime/config-manager.ts';
import type { Snapshot } from '../runtime/snapshot.ts';
import type { OverlayState, TargetOverlay } from '../upstream/target-overlay.ts';
import type { AuditLog } from './audit-log.ts';

export interface ListenerConnections {
  listener: string;
  address: string;
  open: number;
  total: number;
}

/** Everything the admin resources read or change, handed over by the gateway. */
export interface ControlPlane {
  readonly manager: ConfigManager;
  readonly history: ConfigHistory;
  readonly audit: AuditLog;
  readonly overlay: TargetOverlay;
  readonly summary: RequestSummary;
  readonly logger: Logger;
  current(): Snapshot;
  connections(): ListenerConnections[];
  /** The document with every secret replaced by "[redacted]". */
  redact(document: unknown): unknown;
  diff(from: unknown, to: unknown): DiffEntry[];
  /** Apply the config with a candidate target overlay; it is kept only when the config applies. */
  applyOverlay(actor: string, next: OverlayState): Promise<{ ok: true; version: number } | { ok: false; errors: ConfigIssue[] }>;
  setLogLevel(level: string): void;
  readiness(): { ready: boolean; draining: boolean };
}
