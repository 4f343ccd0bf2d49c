import { writeFileAtomic } from '../stores/atomic-file.ts';
import { appendFile, mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AuditEntry, AuditSink } from './http/types.ts';

export interface AuditQuery {
  actor?: string;
  action?: string;
  outcome?: AuditEntry['outcome'];
  /** ISO time; entries at or after it. */
  since?: string;
  /** Default 100, at most 1000. */
  limit?: number;
}

export interface AuditLogOptions {
  /** State directory; entries are appended to <dir>/audit.jsonl. Undefined keeps them in memory only. */
  dir: string | undefined;
  /** Entries kept in memory (and loaded on open); default 1000. */
  limit?: number;
  logger: Logger;
}

const FILE = 'audit.jsonl';
/** Past this many lines the file is rewritten to the last `limit` entries, so it stays bounded. */
const COMPACT_LINES = 10_000;
const QUERY_DEFAULT = 100;
const QUERY_MAX = 1000;
const OUTCOMES: ReadonlySet<string> = new Set(['success', 'failure', 'denied']);

function isAuditEntry(value: unknown): value is AuditEntry {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return Number.isSafeInteger(v.id) && typeof v.time === 'string' && typeof v.actor === 'string'
    && typeof v.action === 'string' && typeof v.outcome === 'string' && OUTCOMES.has(v.outcome);
}

/** Default for absent or non-numeric; otherwise 1..QUERY_MAX. */
function clampLimit(limit: number | undefined): number {
  if (limit === undefined || Number.isNaN(limit)) return QUERY_DEFAULT;
  return Math.min(QUERY_MAX, Math.max(1, Math.floor(limit)));
}

function toLines(entries: AuditEntry[]): string {
  return entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
}

/** The last `limit` well-formed entries of the file, and how many lines it has. */
async function loadTail(path: string, limit: number): Promise<{ entries: AuditEntry[]; lines: number }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], lines: 0 };
    throw error;
  }
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const entries: AuditEntry[] = [];
  // Walk back from the end: only the tail is kept, so most of a large file is never parsed.
  for (let i = lines.length - 1; i >= 0 && entries.length < limit; i--) {
    try {
      const parsed: unknown = JSON.parse(lines[i]!);
      if (isAuditEntry(parsed)) entries.push(parsed);
    } catch {
      // A torn or hand-edited line: skip it, keep the rest.
    }
  }
  return { entries: entries.reverse(), lines: lines.length };
}

/**
 * The admin audit trail: a bounded in-memory ring served by /admin/audit, appended to a JSON-lines
 * file so it survives restarts, and logged. Recording never blocks or throws: an admin action must
 * not fail because the disk did.
 */
export class AuditLog implements AuditSink {
  readonly #path: string | undefined;
  readonly #limit: number;
  readonly #logger: Logger;
  /** Oldest first, at most #limit. */
  #ring: AuditEntry[] = [];
  #lastId = 0;
  #lines = 0;
  /** Recorded, not yet appended. */
  #buffer: AuditEntry[] = [];
  #writing: Promise<void> | undefined;

  private constructor(options: AuditLogOptions) {
    this.#path = options.dir === undefined ? undefined : join(options.dir, FILE);
    this.#limit = Math.max(1, Math.floor(options.limit ?? 1000));
    this.#logger = options.logger;
  }

  static async open(options: AuditLogOptions): Promise<AuditLog> {
    const log = new AuditLog(options);
    if (options.dir !== undefined) await log.#load(options.dir);
    return log;
  }

  record(entry: Omit<AuditEntry, 'id'>): void {
    const full: AuditEntry = { id: ++this.#lastId, ...entry };
    this.#ring.push(full);
    if (this.#ring.length > this.#limit) this.#ring.shift();
    this.#logger.info({ audit: full }, 'admin action');
    if (this.#path === undefined) return;
    this.#buffer.push(full);
    this.#writing ??= this.#drain(this.#path);
  }

  /** Newest first; filters combine with AND. An unparseable `since` filters nothing. */
  query(q: AuditQuery): AuditEntry[] {
    const limit = clampLimit(q.limit);
    const since = q.since === undefined ? Number.NaN : Date.parse(q.since);
    const out: AuditEntry[] = [];
    for (let i = this.#ring.length - 1; i >= 0 && out.length < limit; i--) {
      const entry = this.#ring[i]!;
      if (q.actor !== undefined && entry.actor !== q.actor) continue;
      if (q.action !== undefined && entry.action !== q.action) continue;
      if (q.outcome !== undefined && entry.outcome !== q.outcome) continue;
      if (!Number.isNaN(since) && !(Date.parse(entry.time) >= since)) continue;
      out.push({ ...entry });
    }
    return out;
  }

  /** Resolves once every entry recorded so far is on disk (or its write has failed and been logged). */
  async flush(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
  }

  async #load(dir: string): Promise<void> {
    const path = join(dir, FILE);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      // A temp file left by a crash mid-compaction: the rename never happened, the old file is intact.
      for (const name of await readdir(dir)) {
        if (name.startsWith(`${FILE}.`) && name.endsWith('.tmp')) await unlink(join(dir, name)).catch(() => undefined);
      }
      const { entries, lines } = await loadTail(path, this.#limit);
      this.#ring = entries;
      this.#lastId = entries.reduce((max, e) => Math.max(max, e.id), 0);
      this.#lines = lines;
      if (lines > Math.max(COMPACT_LINES, this.#limit)) await this.#compact(path, this.#lastId);
    } catch (error) {
      // Serve an empty or partial log rather than keep the gateway from starting.
      this.#logger.error({ err: error, file: path }, 'audit log: could not load');
    }
  }

  /** One append per batch, one batch at a time, so lines land in record order. */
  async #drain(path: string): Promise<void> {
    while (this.#buffer.length > 0) {
      const batch = this.#buffer;
      this.#buffer = [];
      try {
        await appendFile(path, toLines(batch), { mode: 0o600 });
        this.#lines += batch.length;
        // Entries still buffered are appended after, so the rewrite must stop at this batch.
        if (this.#lines > Math.max(COMPACT_LINES, 2 * this.#limit)) await this.#compact(path, batch.at(-1)!.id);
      } catch (error) {
        this.#logger.error({ err: error, file: path, lost: batch.length }, 'audit log: could not append');
      }
    }
    this.#writing = undefined;
  }

  /** Rewrite the file to the entries in memory up to `upTo` (write a temp file, then rename). */
  async #compact(path: string, upTo: number): Promise<void> {
    const kept = this.#ring.filter((entry) => entry.id <= upTo);
    try {
      await writeFileAtomic(path, toLines(kept));
      this.#lines = kept.length;
    } catch (error) {
      this.#logger.error({ err: error, file: path }, 'audit log: could not compact');
    }
  }
}
