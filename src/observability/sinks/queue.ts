// Shared batching core for remote log sinks: bounded queue, size/interval batching, one batch in
// flight, retry with capped exponential backoff + jitter, and deadline-bounded flush/close.
import { DEFAULT_BATCH_OPTIONS, SinkError, type BatchOptions, type LogSink, type SinkStats } from './types.ts';

/** A send may accept part of a batch (e.g. Elasticsearch per-item errors). */
export interface SendResult {
  /** Lines the server refused permanently (dropped and counted). */
  rejected?: number;
  /** Lines to send again after a backoff (e.g. per-item 429). */
  retry?: string[];
}

export type SendFn = (batch: string[], signal: AbortSignal) => Promise<void | SendResult>;

const MAX_BACKOFF_MS = 10_000;
/** Retry-After beyond this is treated as a cap, so one server hint cannot park the sink for hours. */
const MAX_RETRY_AFTER_MS = 60_000;
const DEFAULT_DEADLINE_MS = 5_000;

/** Capped exponential backoff with jitter in [50%, 100%] so many gateways do not retry in lockstep. */
export function backoffDelay(baseMs: number, attempt: number): number {
  const cap = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** attempt);
  return Math.round(cap * (0.5 + Math.random() * 0.5));
}

/** Parses Retry-After (delta seconds or HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  const ms = /^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) * 1000 : Date.parse(trimmed) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

/** Unknown failures (fetch "TypeError: fetch failed", timeouts) are network-level: retry them. */
function toSinkError(err: unknown): SinkError {
  if (err instanceof SinkError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SinkError(message, { retryable: true, cause: err });
}

/** Sleeps, waking early on abort; the timer is unref'd so a backing-off sink never holds the process open. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Rejects when the signal aborts, so a send that ignores its signal still cannot exceed the timeout. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new SinkError(`request aborted: ${String(signal.reason)}`, { retryable: true }));
    if (signal.aborted) {
      // The send was started already (a retry right after close): its failure must not go unhandled.
      promise.catch(() => undefined);
      return onAbort();
    }
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export class BatchingQueue implements LogSink {
  readonly #opts: BatchOptions;
  #queue: string[] = [];
  #queuedBytes = 0;
  #inflight = 0;
  #running: Promise<void> | undefined;
  #drainAll = false;
  #closed = false;
  readonly #abort = new AbortController();
  readonly #timer: NodeJS.Timeout;
  #sent = 0;
  #dropped = 0;
  #failedBatches = 0;
  #retries = 0;
  /** Last error seen, for diagnostics (e.g. a periodic "sink unhealthy" log). */
  lastError: SinkError | undefined;

  constructor(
    readonly name: string,
    private readonly send: SendFn,
    options: Partial<BatchOptions> = {},
  ) {
    this.#opts = batchOptions(options);
    this.#timer = setInterval(() => this.#kick(true), this.#opts.flushIntervalMs);
    this.#timer.unref();
  }

  write(line: string): void {
    if (this.#closed || this.#queue.length >= this.#opts.maxQueueLines) {
      this.#dropped++;
      return;
    }
    const text = line.endsWith('\n') ? line.slice(0, -1) : line;
    this.#queue.push(text);
    this.#queuedBytes += Buffer.byteLength(text) + 1;
    if (this.#fullBatchReady()) this.#kick(false);
  }

  async flush(deadlineMs = DEFAULT_DEADLINE_MS): Promise<void> {
    const end = Date.now() + deadlineMs;
    while ((this.#running || this.#queue.length > 0) && Date.now() < end && !this.#abort.signal.aborted) {
      this.#kick(true);
      await raceTimeout(this.#running, end - Date.now());
    }
  }

  async close(deadlineMs = DEFAULT_DEADLINE_MS): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.flush(deadlineMs);
    if (!this.#running && this.#queue.length === 0) return;
    // Deadline passed: cancel the in-flight request/backoff and count whatever is left as dropped.
    this.#abort.abort(new Error('sink closed'));
    this.#dropped += this.#queue.length;
    this.#queue = [];
    this.#queuedBytes = 0;
    await raceTimeout(this.#running, 100);
  }

  stats(): SinkStats {
    return {
      name: this.name,
      queued: this.#queue.length + this.#inflight,
      sent: this.#sent,
      dropped: this.#dropped,
      failedBatches: this.#failedBatches,
      retries: this.#retries,
    };
  }

  #fullBatchReady(): boolean {
    return this.#queue.length >= this.#opts.maxBatchLines || this.#queuedBytes >= this.#opts.maxBatchBytes;
  }

  /** `all`: also send a partial batch (interval tick or flush); otherwise only full batches. */
  #kick(all: boolean): void {
    if (all) this.#drainAll = true;
    if (this.#running) return;
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && !this.#abort.signal.aborted && (this.#drainAll || this.#fullBatchReady())) {
      const batch = this.#take();
      this.#inflight = batch.length;
      try {
        await this.#deliver(batch);
      } finally {
        this.#inflight = 0;
      }
    }
    this.#drainAll = false;
  }

  /** Takes whole lines up to maxBatchLines / maxBatchBytes (always at least one line). */
  #take(): string[] {
    let bytes = 0;
    let n = 0;
    while (n < this.#queue.length && n < this.#opts.maxBatchLines) {
      const size = Buffer.byteLength(this.#queue[n]!) + 1;
      if (n > 0 && bytes + size > this.#opts.maxBatchBytes) break;
      bytes += size;
      n++;
    }
    this.#queuedBytes -= bytes;
    return this.#queue.splice(0, n);
  }

  async #deliver(initial: string[]): Promise<void> {
    let batch = initial;
    for (let attempt = 0; ; attempt++) {
      let error: SinkError;
      try {
        const result = await this.#sendOnce(batch);
        const retry = result?.retry ?? [];
        const rejected = result?.rejected ?? 0;
        this.#sent += batch.length - retry.length - rejected;
        this.#dropped += rejected;
        if (retry.length === 0) return;
        batch = retry;
        error = new SinkError(`${retry.length} lines throttled`, { retryable: true });
      } catch (err) {
        error = toSinkError(err);
      }
      this.lastError = error;
      if (!error.retryable || attempt >= this.#opts.maxRetries || this.#abort.signal.aborted) {
        this.#failedBatches++;
        this.#dropped += batch.length;
        return;
      }
      this.#retries++;
      await sleep(error.retryAfterMs ?? backoffDelay(this.#opts.backoffMs, attempt), this.#abort.signal);
    }
  }

  #sendOnce(batch: string[]): Promise<void | SendResult> {
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#opts.timeoutMs)]);
    return abortable(Promise.resolve().then(() => this.send(batch, signal)), signal);
  }
}

/** Resolves when `promise` settles or after `ms`, whichever is first; never rejects. */
async function raceTimeout(promise: Promise<unknown> | undefined, ms: number): Promise<void> {
  if (!promise) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, ms));
  });
  try {
    await Promise.race([promise.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Picks only batch keys (sink options extend BatchOptions) and skips undefined, so optional config
 * fields like `{ maxRetries: undefined }` do not clobber defaults.
 */
export function batchOptions(options: Partial<BatchOptions>): BatchOptions {
  const out: BatchOptions = { ...DEFAULT_BATCH_OPTIONS };
  for (const key of Object.keys(out) as (keyof BatchOptions)[]) {
    const value = options[key];
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) out[key] = value;
  }
  out.maxBatchLines = Math.max(1, out.maxBatchLines);
  out.flushIntervalMs = Math.max(1, out.flushIntervalMs);
  return out;
}
