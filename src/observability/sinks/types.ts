// Shared contracts for remote/log sinks. Kept dependency-free so every sink can import it.

export interface LogSink {
  /** Accept one JSON log line (no trailing newline needed). Must never block or throw; when the queue is full the line is dropped and counted. */
  write(line: string): void;
  /** Send what is queued (shutdown); resolves when done or when the deadline passes. */
  flush(deadlineMs?: number): Promise<void>;
  close(deadlineMs?: number): Promise<void>;
  stats(): SinkStats;
}

export interface SinkStats {
  name: string;
  queued: number;
  sent: number;
  dropped: number;
  failedBatches: number;
  retries: number;
}

export interface BatchOptions {
  /** default 500 */
  maxBatchLines: number;
  /** default 1 MiB */
  maxBatchBytes: number;
  /** default 1000 */
  flushIntervalMs: number;
  /** default 10000 */
  maxQueueLines: number;
  /** default 5 */
  maxRetries: number;
  /** base, default 200, exponential with jitter, capped at 10 s */
  backoffMs: number;
  /** per request, default 10 s */
  timeoutMs: number;
}

export const DEFAULT_BATCH_OPTIONS: Readonly<BatchOptions> = Object.freeze({
  maxBatchLines: 500,
  maxBatchBytes: 1024 * 1024,
  flushIntervalMs: 1000,
  maxQueueLines: 10_000,
  maxRetries: 5,
  backoffMs: 200,
  timeoutMs: 10_000,
});

/**
 * Thrown by a sink's send function. `retryable` tells the queue whether to back off and retry
 * (network errors, 429, 5xx) or drop the batch. `retryAfterMs` carries a server Retry-After hint.
 */
export class SinkError extends Error {
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;
  constructor(message: string, opts: { retryable: boolean; retryAfterMs?: number; status?: number; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'SinkError';
    this.retryable = opts.retryable;
    this.retryAfterMs = opts.retryAfterMs;
    this.status = opts.status;
  }
}
