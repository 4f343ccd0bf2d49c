import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ApplySource, VersionStore } from '../runtime/config-manager.ts';
import { writeFileAtomic as writeAtomic } from '../stores/atomic-file.ts';

export interface VersionSummary {
  version: number;
  /** ISO time the version was put in force. */
  appliedAt: string;
  source: ApplySource;
  actor: string;
  /** 'sha256:<hex>' of the canonical JSON (keys sorted recursively), so equal configs hash equal. */
  hash: string;
}

export interface StoredVersion extends VersionSummary {
  config: unknown;
}

export interface ConfigHistoryOptions {
  /** State directory; versions go to <dir>/history. Undefined keeps history in memory only. */
  dir: string | undefined;
  /** Versions kept; older ones are deleted. */
  limit: number;
  /** Told about disk failures, which never fail a config apply. */
  logger?: Logger;
}

const FILE_PATTERN = /^(\d{8,})\.json$/;
const SOURCES: ReadonlySet<string> = new Set<ApplySource>(['startup', 'file', 'signal', 'api', 'rollback']);

/** JSON with object keys sorted at every level: the same document always gives the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return item;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(item).sort()) sorted[key] = (item as Record<string, unknown>)[key];
    return sorted;
  }) ?? 'null';
}

export function configHash(config: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(config)).digest('hex')}`;
}

function fileName(version: number): string {
  return `${String(version).padStart(8, '0')}.json`;
}

function isStoredVersion(value: unknown, version: number): value is StoredVersion {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return v.version === version && typeof v.appliedAt === 'string' && typeof v.source === 'string' && SOURCES.has(v.source)
    && typeof v.actor === 'string' && typeof v.hash === 'string' && 'config' in v;
}

function summaryOf(stored: StoredVersion): VersionSummary {
  return { version: stored.version, appliedAt: stored.appliedAt, source: stored.source, actor: stored.actor, hash: stored.hash };
}

/**
 * Numbered config versions, newest last in memory (summaries only), one file per version on disk so a
 * write touches one small file and a corrupt one costs only that version.
 */
export class ConfigHistory implements VersionStore {
  readonly #dir: string | undefined;
  readonly #limit: number;
  readonly #logger: Logger | undefined;
  /** Oldest first. */
  #summaries: VersionSummary[] = [];
  /** Config bodies kept in memory: all of them without a dir, else only those whose write failed. */
  readonly #bodies = new Map<number, unknown>();
  #last = 0;

  private constructor(options: ConfigHistoryOptions) {
    this.#dir = options.dir === undefined ? undefined : join(options.dir, 'history');
    this.#limit = Math.max(1, Math.floor(options.limit));
    this.#logger = options.logger;
  }

  static async open(options: ConfigHistoryOptions): Promise<ConfigHistory> {
    const history = new ConfigHistory(options);
    if (history.#dir !== undefined) await history.#load(history.#dir);
    return history;
  }

  async record(entry: { config: unknown; source: ApplySource; actor: string }): Promise<StoredVersion> {
    const stored: StoredVersion = {
      version: ++this.#last,
      appliedAt: new Date().toISOString(),
      source: entry.source,
      actor: entry.actor,
      hash: configHash(entry.config),
      config: entry.config,
    };
    this.#summaries.push(summaryOf(stored));
    if (this.#dir === undefined) this.#bodies.set(stored.version, stored.config);
    else await this.#write(this.#dir, stored);
    await this.#prune();
    return stored;
  }

  async get(version: number): Promise<StoredVersion | undefined> {
    const summary = this.#summaries.find((s) => s.version === version);
    if (summary === undefined) return undefined;
    if (this.#bodies.has(version)) return { ...summary, config: this.#bodies.get(version) };
    if (this.#dir === undefined) return undefined;
    const stored = await readVersion(this.#dir, version);
    return stored === undefined ? undefined : { ...summary, config: stored.config };
  }

  /** Newest first, without config bodies. */
  list(): VersionSummary[] {
    return this.#summaries.map((s) => ({ ...s })).reverse();
  }

  latest(): VersionSummary | undefined {
    const last = this.#summaries.at(-1);
    return last === undefined ? undefined : { ...last };
  }

  async #load(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const names = await readdir(dir);
    const versions: number[] = [];
    for (const name of names) {
      const match = FILE_PATTERN.exec(name);
      if (match !== null) versions.push(Number(match[1]));
      // A temp file left by a crash mid-write: its rename never happened, so it holds no version.
      else if (name.endsWith('.tmp')) await unlink(join(dir, name)).catch(() => undefined);
    }
    versions.sort((a, b) => a - b);
    // Continue after the highest file name, even a corrupt one, so no version number is reused.
    this.#last = versions.at(-1) ?? 0;
    for (const version of versions.slice(-this.#limit)) {
      const stored = await readVersion(dir, version);
      if (stored !== undefined) this.#summaries.push(summaryOf(stored));
      else this.#logger?.warn({ file: join(dir, fileName(version)) }, 'config history: unreadable version skipped');
    }
    await Promise.all(versions.slice(0, -this.#limit).map((v) => removeFile(join(dir, fileName(v)))));
  }

  async #write(dir: string, stored: StoredVersion): Promise<void> {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeAtomic(join(dir, fileName(stored.version)), JSON.stringify(stored, null, 2));
    } catch (error) {
      // Keep the body in memory so rollback to it still works in this process.
      this.#bodies.set(stored.version, stored.config);
      this.#logger?.error({ err: error, version: stored.version }, 'config history: could not persist version');
    }
  }

  async #prune(): Promise<void> {
    const dropped = this.#summaries.splice(0, Math.max(0, this.#summaries.length - this.#limit));
    for (const { version } of dropped) {
      this.#bodies.delete(version);
      if (this.#dir !== undefined) await removeFile(join(this.#dir, fileName(version)));
    }
  }
}

async function readVersion(dir: string, version: number): Promise<StoredVersion | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(dir, fileName(version)), 'utf8'));
    return isStoredVersion(parsed, version) ? parsed : undefined;
  } catch {
    return undefined;
  }
}


async function removeFile(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}
