import { setTimeout as sleep } from 'node:timers/promises';
import { signRequest, type AwsCredentials } from './sigv4.ts';
import { DEFAULT_BATCH_OPTIONS, SinkError, type BatchOptions, type LogSink, type SinkStats } from './types.ts';

/** PutLogEvents hard limits (AWS docs). */
export const CW_MAX_EVENTS = 10_000;
export const CW_MAX_BATCH_BYTES = 1_048_576;
export const CW_EVENT_OVERHEAD = 26;
export const CW_MAX_EVENT_BYTES = 262_144;
export const CW_MAX_SPAN_MS = 24 * 3600 * 1000;
const BACKOFF_CAP_MS = 10_000;

export interface CloudWatchSinkConfig {
  region: string;
  logGroupName: string;
  logStreamName: string;
  credentials: AwsCredentials;
  /** Override `https://logs.<region>.amazonaws.com/` (tests, VPC endpoints, LocalStack). */
  endpoint?: string;
  batch?: Partial<BatchOptions>;
  /** Event time of a line; defaults to the time it was written. */
  timestampOf?: (line: string) => number;
  /** Call CreateLogStream before the first put (default true). */
  createStream?: boolean;
}

interface LogEvent {
  timestamp: number;
  message: string;
  /** UTF-8 bytes + per-event overhead, as AWS counts them. */
  size: number;
}

/** An error response from the Logs API; `code` is the `__type` without its namespace prefix. */
export class CloudWatchError extends SinkError {
  readonly code: string;
  readonly expectedSequenceToken: string | undefined;
  constructor(code: string, message: string, status: number, expectedSequenceToken?: string) {
    const retryable = status >= 500 || status === 429 || code === 'ThrottlingException' || code === 'ServiceUnavailableException';
    super(`${code}: ${message}`, { retryable, status });
    this.name = 'CloudWatchError';
    this.code = code;
    this.expectedSequenceToken = expectedSequenceToken;
  }
}

/**
 * CloudWatch Logs sink. Own batching rather than the generic queue because PutLogEvents batches
 * must be sorted by time, span ≤ 24 h and count 26 bytes per event; one request is in flight at a
 * time, which the (legacy) sequence-token protocol requires anyway.
 */
export class CloudWatchSink implements LogSink {
  readonly #cfg: CloudWatchSinkConfig;
  readonly #opts: BatchOptions;
  readonly #url: string;
  #queue: LogEvent[] = [];
  #unsorted = false;
  #inFlight: Promise<void> | undefined;
  #streamReady: boolean;
  #sequenceToken: string | undefined;
  #closed = false;
  readonly #timer: NodeJS.Timeout;
  #stats: SinkStats = { name: 'cloudwatch', queued: 0, sent: 0, dropped: 0, failedBatches: 0, retries: 0 };

  constructor(cfg: CloudWatchSinkConfig) {
    this.#cfg = cfg;
    this.#opts = { ...DEFAULT_BATCH_OPTIONS, ...cfg.batch };
    this.#url = cfg.endpoint ?? `https://logs.${cfg.region}.amazonaws.com/`;
    this.#streamReady = cfg.createStream === false;
    this.#timer = setInterval(() => this.#pump(), this.#opts.flushIntervalMs);
    this.#timer.unref();
  }

  write(line: string): void {
    const size = Buffer.byteLength(line) + CW_EVENT_OVERHEAD;
    // Oversized events would make AWS reject the whole batch: drop just this one.
    if (this.#closed || this.#queue.length >= this.#opts.maxQueueLines || size > CW_MAX_EVENT_BYTES) {
      this.#stats.dropped++;
      return;
    }
    let timestamp: number;
    try {
      timestamp = this.#cfg.timestampOf?.(line) ?? Date.now();
    } catch {
      timestamp = Date.now();
    }
    if (!Number.isFinite(timestamp)) timestamp = Date.now(); // a bad time field must not poison the batch
    const last = this.#queue[this.#queue.length - 1];
    if (last && timestamp < last.timestamp) this.#unsorted = true;
    this.#queue.push({ timestamp, message: line, size });
    if (this.#queue.length >= this.#opts.maxBatchLines) this.#pump();
  }

  stats(): SinkStats {
    return { ...this.#stats, queued: this.#queue.length };
  }

  /** Send everything queued, giving up after `deadlineMs` (what is left stays queued). */
  async flush(deadlineMs = 5000): Promise<void> {
    const end = Date.now() + deadlineMs;
    while (this.#queue.length > 0 || this.#inFlight) {
      const left = end - Date.now();
      if (left <= 0) return;
      this.#pump();
      // Ref'd on purpose: an awaited flush keeps the process up until done or the deadline.
      const ac = new AbortController();
      await Promise.race([this.#inFlight, sleep(left, undefined, { signal: ac.signal }).catch(() => {})]);
      ac.abort();
    }
  }

  async close(deadlineMs = 5000): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.flush(deadlineMs);
  }

  #pump(): void {
    if (this.#inFlight || this.#queue.length === 0) return;
    const batch = this.#takeBatch();
    this.#inFlight = this.#sendBatch(batch).finally(() => {
      this.#inFlight = undefined;
      if (this.#queue.length >= this.#opts.maxBatchLines) this.#pump();
    });
  }

  /** Longest time-ordered prefix within the count, byte and 24 h limits. */
  #takeBatch(): LogEvent[] {
    if (this.#unsorted) {
      this.#queue.sort((a, b) => a.timestamp - b.timestamp); // stable: equal times keep write order
      this.#unsorted = false;
    }
    const maxEvents = Math.min(CW_MAX_EVENTS, this.#opts.maxBatchLines);
    const maxBytes = Math.min(CW_MAX_BATCH_BYTES, this.#opts.maxBatchBytes);
    const first = this.#queue[0]!.timestamp;
    let bytes = 0;
    let n = 0;
    for (const ev of this.#queue) {
      if (n >= maxEvents || (n > 0 && bytes + ev.size > maxBytes) || ev.timestamp - first >= CW_MAX_SPAN_MS) break;
      bytes += ev.size;
      n++;
    }
    return this.#queue.splice(0, n);
  }

  async #sendBatch(batch: LogEvent[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#put(batch);
        this.#stats.sent += batch.length;
        return;
      } catch (err) {
        const cw = err instanceof CloudWatchError ? err : undefined;
        if (cw?.code === 'DataAlreadyAcceptedException') {
          this.#sequenceToken = cw.expectedSequenceToken ?? this.#sequenceToken;
          this.#stats.sent += batch.length;
          return;
        }
        const retryable = this.#prepareRetry(err);
        if (!retryable || attempt >= this.#opts.maxRetries) {
          this.#stats.failedBatches++;
          this.#stats.dropped += batch.length;
          return;
        }
        this.#stats.retries++;
        if (cw?.code !== 'InvalidSequenceTokenException') await sleep(this.#backoff(attempt, cw?.retryAfterMs), undefined, { ref: false });
      }
    }
  }

  /** Adjust state for the next attempt; false when the error is not worth retrying. */
  #prepareRetry(err: unknown): boolean {
    if (!(err instanceof CloudWatchError)) return true; // network error or timeout
    switch (err.code) {
      case 'InvalidSequenceTokenException':
        this.#sequenceToken = err.expectedSequenceToken;
        return true;
      case 'ResourceNotFoundException':
        this.#streamReady = false; // stream deleted under us: recreate it
        return this.#cfg.createStream !== false;
      default:
        return err.retryable;
    }
  }

  #backoff(attempt: number, hint?: number): number {
    if (hint !== undefined) return Math.min(hint, BACKOFF_CAP_MS);
    const exp = Math.min(this.#opts.backoffMs * 2 ** attempt, BACKOFF_CAP_MS);
    return exp / 2 + Math.random() * (exp / 2);
  }

  async #put(batch: LogEvent[]): Promise<void> {
    if (!this.#streamReady) {
      try {
        await this.#call('CreateLogStream', { logGroupName: this.#cfg.logGroupName, logStreamName: this.#cfg.logStreamName });
      } catch (err) {
        if (!(err instanceof CloudWatchError && err.code === 'ResourceAlreadyExistsException')) throw err;
      }
      this.#streamReady = true;
    }
    const body: Record<string, unknown> = {
      logGroupName: this.#cfg.logGroupName,
      logStreamName: this.#cfg.logStreamName,
      logEvents: batch.map((e) => ({ timestamp: e.timestamp, message: e.message })),
    };
    if (this.#sequenceToken !== undefined) body['sequenceToken'] = this.#sequenceToken;
    const res = await this.#call('PutLogEvents', body);
    // Current API versions no longer return a token; keep the last one only when given.
    if (typeof res['nextSequenceToken'] === 'string') this.#sequenceToken = res['nextSequenceToken'];
  }

  /** One signed JSON call to the Logs API. */
  async #call(action: string, payload: unknown): Promise<Record<string, unknown>> {
    const body = JSON.stringify(payload);
    const signed = signRequest({
      method: 'POST',
      url: this.#url,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `Logs_20140328.${action}` },
      body,
      region: this.#cfg.region,
      service: 'logs',
      credentials: this.#cfg.credentials,
    });
    const { host: _host, ...headers } = signed.headers; // fetch derives the same Host from the URL
    const res = await fetch(this.#url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.#opts.timeoutMs) });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      if (text) json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // Non-JSON error pages (proxies, 5xx) are reported by status below.
    }
    if (res.ok) return json;
    const type = typeof json['__type'] === 'string' ? json['__type'] : `HTTP${res.status}`;
    const code = type.slice(type.lastIndexOf('#') + 1);
    const message = String(json['message'] ?? json['Message'] ?? res.statusText);
    const expected = typeof json['expectedSequenceToken'] === 'string' ? json['expectedSequenceToken'] : undefined;
    throw new CloudWatchError(code, message, res.status, expected);
  }
}
