import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { LogSink, SinkStats } from './types.ts';

export interface RotatingFileConfig {
  path: string;
  /** Rotate before a write would take the file past this many bytes (0: never by size). */
  maxSize?: number;
  /** Rotate when the UTC hour/day changes. */
  interval?: 'hourly' | 'daily';
  /** Rotated files to keep: `app.log.1` (newest) … `app.log.N`; older ones are deleted. Default 7. */
  retention?: number;
  /** Compress rotated files to `app.log.N.gz` in the background. */
  gzip?: boolean;
  /** Memory bound for lines not yet written (UTF-16 chars); past it lines are dropped. Default 16 Mi. */
  maxQueueChars?: number;
  /** Write at least this often (default 200 ms) or as soon as 64 KiB are pending. */
  flushIntervalMs?: number;
  /** Clock for interval rotation (tests). */
  now?: () => number;
}

const FLUSH_CHARS = 64 * 1024;

function periodOf(ms: number, interval: RotatingFileConfig['interval']): string {
  if (!interval) return '';
  return new Date(ms).toISOString().slice(0, interval === 'hourly' ? 13 : 10);
}

async function unlinkQuiet(path: string): Promise<void> {
  await unlink(path).catch(() => {});
}

async function renameQuiet(from: string, to: string): Promise<void> {
  await rename(from, to).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

/**
 * Append-only file sink with size/interval rotation. Lines are batched into one write at a time so
 * a slow disk costs memory (bounded, then drops) rather than blocking the request path.
 */
export class RotatingFileSink implements LogSink {
  readonly #cfg: Required<Omit<RotatingFileConfig, 'interval'>> & Pick<RotatingFileConfig, 'interval'>;
  #pending: string[] = [];
  #pendingChars = 0;
  #fh: FileHandle | undefined;
  #size = 0;
  #period = '';
  #running: Promise<void> | undefined;
  /** Background compression of `path.1`; the next rotation waits for it before shifting names. */
  #gzipping: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #timer: NodeJS.Timeout;
  #stats: SinkStats = { name: 'file', queued: 0, sent: 0, dropped: 0, failedBatches: 0, retries: 0 };
  #rotations = 0;

  constructor(cfg: RotatingFileConfig) {
    this.#cfg = {
      maxSize: 0, retention: 7, gzip: false, maxQueueChars: 16 * 1024 * 1024, flushIntervalMs: 200, now: Date.now,
      ...cfg,
    };
    this.#timer = setInterval(() => this.#kick(), this.#cfg.flushIntervalMs);
    this.#timer.unref();
  }

  write(line: string): void {
    if (this.#closed || this.#pendingChars + line.length > this.#cfg.maxQueueChars) {
      this.#stats.dropped++;
      return;
    }
    const text = line.endsWith('\n') ? line : `${line}\n`;
    this.#pending.push(text);
    this.#pendingChars += text.length;
    if (this.#pendingChars >= FLUSH_CHARS) this.#kick();
  }

  stats(): SinkStats {
    return { ...this.#stats, queued: this.#pending.length };
  }

  get rotations(): number {
    return this.#rotations;
  }

  /** Write what is pending; resolves when done or after `deadlineMs`. */
  async flush(deadlineMs = 5000): Promise<void> {
    const end = Date.now() + deadlineMs;
    while (this.#pending.length > 0 || this.#running) {
      const left = end - Date.now();
      if (left <= 0) return;
      this.#kick();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.#running, new Promise((r) => (timer = setTimeout(r, left)))]);
      clearTimeout(timer);
    }
  }

  /** Flush, let background compression finish (same deadline), and close the file. */
  async close(deadlineMs = 5000): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    const end = Date.now() + deadlineMs;
    await this.flush(deadlineMs);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#gzipping, new Promise((r) => (timer = setTimeout(r, Math.max(0, end - Date.now()))))]);
    clearTimeout(timer);
    if (!this.#running) await this.#closeFile();
  }

  #kick(): void {
    if (this.#running || this.#pending.length === 0) return;
    this.#running = this.#drain()
      .catch(() => {}) // #drain counts its own failures; never surface to writers
      .finally(() => {
        this.#running = undefined;
        if (this.#pendingChars >= FLUSH_CHARS || (this.#closed && this.#pending.length > 0)) this.#kick();
      });
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      try {
        if (!this.#fh) await this.#openFile();
        const period = periodOf(this.#cfg.now(), this.#cfg.interval);
        if (period !== this.#period) {
          if (this.#size > 0) await this.#rotate();
          this.#period = period; // an empty file just carries over into the new period
        }
        const chunk = this.#takeChunk();
        if (!chunk) {
          await this.#rotate(); // next line does not fit: start a new file
          continue;
        }
        await this.#writeChunk(chunk);
      } catch {
        // Open/rename failed (disk full, permissions): drop what is pending rather than spin.
        this.#stats.failedBatches++;
        this.#stats.dropped += this.#pending.length;
        this.#pending = [];
        this.#pendingChars = 0;
        await this.#closeFile();
      }
    }
  }

  async #writeChunk(chunk: { data: Buffer; lines: number }): Promise<void> {
    try {
      await this.#fh!.appendFile(chunk.data);
      this.#size += chunk.data.length;
      this.#stats.sent += chunk.lines;
    } catch {
      this.#stats.failedBatches++;
      this.#stats.dropped += chunk.lines;
      await this.#closeFile(); // reopen on the next drain in case the file was removed
    }
  }

  /** Whole lines that still fit under maxSize; a lone oversized line goes into an empty file. */
  #takeChunk(): { data: Buffer; lines: number } | undefined {
    const max = this.#cfg.maxSize;
    let bytes = 0;
    let n = 0;
    for (const line of this.#pending) {
      const len = Buffer.byteLength(line);
      if (max > 0 && this.#size + bytes + len > max && !(n === 0 && this.#size === 0)) break;
      bytes += len;
      n++;
      if (bytes >= FLUSH_CHARS * 4) break; // bound a single write
    }
    if (n === 0) return undefined;
    const lines = this.#pending.splice(0, n);
    for (const line of lines) this.#pendingChars -= line.length;
    return { data: Buffer.from(lines.join(''), 'utf8'), lines: n };
  }

  async #openFile(): Promise<void> {
    this.#fh = await open(this.#cfg.path, 'a');
    const st = await this.#fh.stat();
    this.#size = st.size;
    // A file left from an earlier period (restart after midnight) is rotated on the first write.
    this.#period = periodOf(st.size > 0 ? st.mtimeMs : this.#cfg.now(), this.#cfg.interval);
  }

  async #closeFile(): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    await fh?.close().catch(() => {});
  }

  /** app.log → app.log.1, shifting older files up and deleting the one past retention. */
  async #rotate(): Promise<void> {
    await this.#closeFile();
    await this.#gzipping; // compression of the previous .1 must not race the renames
    const { path, retention } = this.#cfg;
    if (retention <= 0) {
      await unlinkQuiet(path);
    } else {
      await unlinkQuiet(`${path}.${retention}`);
      await unlinkQuiet(`${path}.${retention}.gz`);
      for (let i = retention - 1; i >= 1; i--) {
        await renameQuiet(`${path}.${i}`, `${path}.${i + 1}`);
        await renameQuiet(`${path}.${i}.gz`, `${path}.${i + 1}.gz`);
      }
      await renameQuiet(path, `${path}.1`);
      if (this.#cfg.gzip) this.#gzipping = this.#compress(`${path}.1`);
    }
    this.#rotations++;
    await this.#openFile();
  }

  /** Gzip to a temp name then rename, so a crash never leaves a truncated `.gz` beside its source. */
  async #compress(src: string): Promise<void> {
    const tmp = `${src}.gz.tmp`;
    try {
      if (!(await stat(src)).isFile()) return;
      await pipeline(createReadStream(src), createGzip(), createWriteStream(tmp));
      await rename(tmp, `${src}.gz`);
      await unlink(src);
    } catch {
      await unlinkQuiet(tmp); // keep the uncompressed file rather than lose it
    }
  }
}
