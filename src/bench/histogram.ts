/**
 * Log-linear latency histogram in microseconds (the HdrHistogram layout): values below 2^SUB_BITS
 * are exact, above that each power of two is split into 2^(SUB_BITS-1) linear buckets, so the
 * relative error stays under 1/2^(SUB_BITS-1) (< 1 %) with bounded memory however long the run is.
 */
const SUB_BITS = 8;
const SUB = 1 << SUB_BITS; // 256 exact buckets for 0..255 µs
const HALF = SUB >> 1; // 128 buckets per octave above that
const MAX_US = 2 ** 36; // ~19 hours: anything larger is clamped

export class LatencyHistogram {
  /** Bucket counts; grows by octave as large values arrive. */
  private counts: number[] = new Array<number>(SUB).fill(0);
  count = 0;
  private sum = 0;
  min = Infinity;
  max = 0;

  record(us: number): void {
    const v = Math.min(Math.max(0, Math.round(us)), MAX_US);
    const i = bucketOf(v);
    while (i >= this.counts.length) this.counts.push(0);
    this.counts[i]! += 1;
    this.count += 1;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** Value at percentile p (0..100): the upper edge of the bucket holding it, capped at max. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(upperEdgeOf(i), this.max);
    }
    return this.max;
  }

  merge(other: LatencyHistogram): void {
    while (this.counts.length < other.counts.length) this.counts.push(0);
    other.counts.forEach((c, i) => (this.counts[i]! += c));
    this.count += other.count;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }

  reset(): void {
    this.counts = new Array<number>(SUB).fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = 0;
  }
}

export function bucketOf(v: number): number {
  if (v < SUB) return v;
  const shift = Math.floor(Math.log2(v)) - (SUB_BITS - 1); // >= 1
  // v >> shift lies in [HALF, SUB); each octave adds HALF buckets after the exact range.
  return SUB + (shift - 1) * HALF + (Math.floor(v / 2 ** shift) - HALF);
}

export function upperEdgeOf(i: number): number {
  if (i < SUB) return i;
  const shift = Math.floor((i - SUB) / HALF) + 1;
  const mantissa = ((i - SUB) % HALF) + HALF;
  return (mantissa + 1) * 2 ** shift - 1;
}
