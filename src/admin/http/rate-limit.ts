/** Verdict for one request: allowed, or denied with the seconds until a token is back. */
export type RateVerdict =
  | { allowed: true }
  | { allowed: false; retryAfterSeconds: number; /** First denial of this client in the current minute (audit it once). */ firstDenial: boolean };

interface Bucket {
  tokens: number;
  updated: number;
  lastDenialReported: number;
}

const MINUTE_MS = 60_000;
/** Clients tracked at most; past this, full (idle) buckets are dropped, then the oldest. Bounds memory under spoofed floods. */
const MAX_CLIENTS = 10_000;

/**
 * Token bucket per client address: capacity = requests per minute, refilled continuously at that
 * rate, so a burst of a full minute's budget is allowed and then one request per (60 s / limit).
 */
export class RateLimiter {
  private readonly capacity: number;
  private readonly perMs: number;
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;

  constructor(requestsPerMinute: number, now: () => number = Date.now) {
    this.capacity = Math.max(1, Math.floor(requestsPerMinute));
    this.perMs = this.capacity / MINUTE_MS;
    this.now = now;
  }

  take(client: string): RateVerdict {
    const now = this.now();
    let bucket = this.buckets.get(client);
    if (bucket === undefined) {
      if (this.buckets.size >= MAX_CLIENTS) this.prune(now);
      bucket = { tokens: this.capacity, updated: now, lastDenialReported: -Infinity };
      this.buckets.set(client, bucket);
    } else {
      bucket.tokens = Math.min(this.capacity, bucket.tokens + (now - bucket.updated) * this.perMs);
      bucket.updated = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    const firstDenial = now - bucket.lastDenialReported >= MINUTE_MS;
    if (firstDenial) bucket.lastDenialReported = now;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000)), firstDenial };
  }

  private prune(now: number): void {
    for (const [client, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.updated) * this.perMs >= this.capacity) this.buckets.delete(client);
    }
    // Everyone is active: drop the oldest-inserted to stay bounded.
    for (const client of this.buckets.keys()) {
      if (this.buckets.size < MAX_CLIENTS) break;
      this.buckets.delete(client);
    }
  }
}
