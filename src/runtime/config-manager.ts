import type { Logger } from 'pino';
import { ConfigError, type ConfigIssue } from '../config/index.ts';
import type { Snapshot } from './snapshot.ts';

export type ApplySource = 'startup' | 'file' | 'signal' | 'api' | 'rollback';

export interface ApplyMeta {
  source: ApplySource;
  actor: string;
}

export type ApplyOutcome = { ok: true; version: number; snapshot: Snapshot } | { ok: false; errors: ConfigIssue[] };

/** A recorded version as the manager needs it; the history store keeps more. */
export interface VersionRecord {
  version: number;
  config: unknown;
}

export interface VersionStore {
  record(entry: { config: unknown; source: ApplySource; actor: string }): Promise<VersionRecord>;
  get(version: number): Promise<VersionRecord | undefined>;
}

export interface ConfigManagerDeps {
  /** Validate and compile (throws ConfigError on an invalid config); nothing is swapped yet. */
  build(raw: unknown, version: number): Promise<Snapshot>;
  /** Put a built snapshot in force and retire the previous one (awaited: an apply ends once it is in force). */
  swap(snapshot: Snapshot): void | Promise<void>;
  /** Runtime overlays (registered targets) applied on top of every document before it is built; `pending` is a candidate overlay state not yet committed. */
  overlay(raw: unknown, pending?: unknown): unknown;
  history: VersionStore;
  logger: Logger;
  /** Re-read the config file; undefined when the gateway runs without one. */
  readFile?: () => Promise<unknown>;
  onRejected?: (meta: ApplyMeta, errors: ConfigIssue[]) => void;
  onApplied?: (meta: ApplyMeta, version: number) => void;
}

/**
 * The one path every config change takes — startup, file watch, SIGHUP, admin API, rollback:
 * load → validate → compile → swap, one at a time, recorded as a numbered version. A rejected
 * change leaves the running snapshot and the current document untouched.
 */
export class ConfigManager {
  #document: unknown;
  #version = 0;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: ConfigManagerDeps) {}

  /** The declarative config as last applied (without runtime overlays). */
  get document(): unknown {
    return this.#document;
  }

  /** Whether the gateway has a config file to re-read. */
  get hasFile(): boolean {
    return this.deps.readFile !== undefined;
  }

  get version(): number {
    return this.#version;
  }

  /** Apply a whole document. Changes are serialized so two never interleave. */
  apply(document: unknown, meta: ApplyMeta): Promise<ApplyOutcome> {
    const run = this.#queue.then(() => this.#apply(document, meta));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Apply an edit of the current document (admin API writes). The draft is a private copy. */
  mutate(edit: (draft: Record<string, unknown>) => void, meta: ApplyMeta): Promise<ApplyOutcome> {
    const run = this.#queue.then(() => {
      const draft = structuredClone(this.#document) as Record<string, unknown>;
      edit(draft);
      return this.#apply(draft, meta);
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Re-apply the current document with a candidate overlay state (registered targets, …). */
  refresh(meta: ApplyMeta, pendingOverlay: unknown): Promise<ApplyOutcome> {
    const run = this.#queue.then(() => this.#apply(this.#document, meta, pendingOverlay));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async reloadFile(meta: ApplyMeta): Promise<ApplyOutcome> {
    if (this.deps.readFile === undefined) {
      return { ok: false, errors: [{ path: '', message: 'this gateway was not started from a config file' }] };
    }
    let document: unknown;
    try {
      document = await this.deps.readFile();
    } catch (error) {
      const errors = error instanceof ConfigError ? error.issues : [{ path: '', message: (error as Error).message }];
      this.#reject(meta, errors);
      return { ok: false, errors };
    }
    return this.apply(document, meta);
  }

  async rollback(version: number, actor: string): Promise<ApplyOutcome | undefined> {
    const record = await this.deps.history.get(version);
    if (record === undefined) return undefined;
    return this.apply(record.config, { source: 'rollback', actor });
  }

  async #apply(document: unknown, meta: ApplyMeta, pendingOverlay?: unknown): Promise<ApplyOutcome> {
    let snapshot: Snapshot;
    const version = this.#version + 1;
    try {
      snapshot = await this.deps.build(this.deps.overlay(document, pendingOverlay), version);
    } catch (error) {
      const errors = error instanceof ConfigError ? error.issues : [{ path: '', message: (error as Error).message }];
      this.#reject(meta, errors);
      return { ok: false, errors };
    }
    const record = await this.deps.history.record({ config: document, source: meta.source, actor: meta.actor });
    this.#version = record.version;
    this.#document = document;
    snapshot.version = record.version;
    await this.deps.swap(snapshot);
    this.deps.logger.info({ version: record.version, source: meta.source, actor: meta.actor }, 'config applied');
    this.deps.onApplied?.(meta, record.version);
    return { ok: true, version: record.version, snapshot };
  }

  #reject(meta: ApplyMeta, errors: ConfigIssue[]): void {
    this.deps.logger.error({ source: meta.source, actor: meta.actor, errors }, 'config rejected; the running config stays in force');
    this.deps.onRejected?.(meta, errors);
  }
}
