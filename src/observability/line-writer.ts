import { write, writeSync } from 'node:fs';

// Each write costs a syscall and a threadpool round trip: at 5k+ lines/s, big batches matter.
const FLUSH_BYTES = 256 * 1024;
const FLUSH_EVERY_MS = 200;
/** Writes up to this size to a pipe are atomic (POSIX PIPE_BUF): lines of processes sharing stdout never interleave. */
const PIPE_BUF = 4096;
/** Past this backlog (a stalled stdout reader) lines are dropped and counted, never buffered without bound. */
const MAX_BACKLOG_CHARS = 16 * 1024 * 1024;

/**
 * Batches log lines into one asynchronous write per ~256 KiB or 200 ms. Lines are appended to an
 * array (no per-line byte counting or string flattening, which made a generic buffered stream cost
 * a third of the gateway's throughput), and at most one write is in flight.
 */
export class LineWriter {
  #pending: string[] = [];
  readonly #encoding: BufferEncoding;
  #chars = 0;
  #writing = false;
  #dropped = 0;
  #accepted = 0;
  readonly #timer: NodeJS.Timeout;

  /**
   * `sharedFd`: other processes write the same stdout (cluster workers), so keep each write ≤ PIPE_BUF.
   * `ascii`: every line is pure ASCII (access lines escape the rest), so bytes are copied as latin1
   * instead of going through a UTF-8 encoder.
   */
  constructor(
    private readonly fd: number,
    private readonly sharedFd = false,
    ascii = false,
  ) {
    this.#encoding = ascii ? 'latin1' : 'utf8';
    this.#timer = setInterval(() => this.#flushAsync(), FLUSH_EVERY_MS);
    this.#timer.unref();
  }

  write(line: string): void {
    if (this.#chars > MAX_BACKLOG_CHARS) {
      this.#dropped++;
      return;
    }
    this.#pending.push(line);
    this.#accepted++;
    this.#chars += line.length;
    if (this.#chars >= FLUSH_BYTES) this.#flushAsync();
  }

  /** Lines accepted for writing (dropped ones not included). */
  get accepted(): number {
    return this.#accepted;
  }

  /** Lines waiting for the next write. */
  get queued(): number {
    return this.#pending.length;
  }

  /** Lines dropped because the destination could not keep up. */
  get dropped(): number {
    return this.#dropped;
  }

  #take(): Buffer | undefined {
    if (this.#pending.length === 0) return undefined;
    const lines = this.#pending;
    this.#pending = [];
    this.#chars = 0;
    if (!this.sharedFd) return Buffer.from(lines.join(''), this.#encoding);
    // Whole lines only, at most PIPE_BUF per write: put back what does not fit for the next write.
    let size = 0;
    let n = 0;
    while (n < lines.length && (n === 0 || size + Buffer.byteLength(lines[n]!, this.#encoding) <= PIPE_BUF)) size += Buffer.byteLength(lines[n++]!, this.#encoding);
    const rest = lines.slice(n);
    this.#pending = rest;
    for (const line of rest) this.#chars += line.length;
    return Buffer.from(lines.slice(0, n).join(''), this.#encoding);
  }

  #flushAsync(): void {
    if (this.#writing) return;
    const data = this.#take();
    if (data === undefined) return;
    this.#writing = true;
    this.#writeAll(data, 0);
  }

  #writeAll(data: Buffer, offset: number): void {
    write(this.fd, data, offset, data.length - offset, null, (error, written) => {
      if (!error && offset + written < data.length) return this.#writeAll(data, offset + written);
      this.#writing = false;
      if (error) this.#dropped++;
      if (this.#chars >= (this.sharedFd ? PIPE_BUF : FLUSH_BYTES)) this.#flushAsync();
    });
  }

  /** Write what is buffered before the process exits (an in-flight async write still completes). */
  flush(): void {
    for (let data = this.#take(); data !== undefined; data = this.#take()) {
      try {
        writeSync(this.fd, data);
      } catch {
        this.#dropped++;
      }
    }
  }

  close(): void {
    clearInterval(this.#timer);
    this.flush();
  }
}
