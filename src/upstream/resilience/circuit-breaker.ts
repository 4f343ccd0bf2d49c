/**
 * Circuit breaker state machine, pure: no timers, no I/O, time comes from an injected clock so it
 * is tested with a fake one. closed → open on a failure rate (or slow-call rate) over a rolling
 * window of time buckets once a minimum number of calls is seen, or on consecutive failures;
 * open → half-open once `openMs` passed (evaluated lazily on read); half-open admits a bounded
 * number of concurrent probes, closes after `successThreshold` successes, reopens on a failure.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';
export type ForcedState = 'open' | 'closed' | undefined;

export interface BreakerSettings {
  /** Rolling window length and its bucket count (a call falls in the bucket of its end time). */
  windowMs: number;
  buckets: number;
  /** Calls needed in the window before the rates are judged. */
  minRequests: number;
  /** Open when failures / calls ≥ this (0..1); 0 disables. */
  failureRate: number;
  /** Open after this many failures in a row; 0 disables. */
  consecutiveFailures: number;
  /** A call longer than this is slow (0 disables the slow-call rule). */
  slowCallMs: number;
  /** Open when slow calls / calls ≥ this (0..1). */
  slowCallRate: number;
  /** Time spent open before probing. */
  openMs: number;
  /** Concurrent probes admitted while half-open. */
  halfOpenProbes: number;
  /** Successful probes that close the circuit. */
  successThreshold: number;
}

export type TransitionListener = (from: BreakerState, to: BreakerState, reason: string) => void;

export class CircuitBreaker {
  #state: BreakerState = 'closed';
  #forced: ForcedState;
  #openedAt = 0;
  #consecutive = 0;
  #probes = 0;
  #probeSuccesses = 0;
  /** Bumped whenever the probe count is reset, so a late release from an earlier half-open period is ignored. */
  #generation = 0;
  /** Ring of buckets: calls, failures, slow calls, and the bucket's epoch (start time / bucketMs). */
  readonly #calls: Int32Array;
  readonly #failures: Int32Array;
  readonly #slow: Int32Array;
  readonly #epochs: Float64Array;
  readonly #bucketMs: number;

  constructor(
    private settings: BreakerSettings,
    private readonly now: () => number,
    private readonly onTransition: TransitionListener = () => {},
  ) {
    const n = Math.max(1, settings.buckets);
    this.#calls = new Int32Array(n);
    this.#failures = new Int32Array(n);
    this.#slow = new Int32Array(n);
    this.#epochs = new Float64Array(n).fill(-1);
    this.#bucketMs = Math.max(1, settings.windowMs / n);
  }

  /** New thresholds (config reload) keep the state and the window's counts when the shape matches. */
  reconfigure(settings: BreakerSettings): boolean {
    if (settings.buckets !== this.settings.buckets || settings.windowMs !== this.settings.windowMs) return false;
    this.settings = settings;
    return true;
  }

  /** Current state (open turns half-open here once its time is up). A forced state wins. */
  get state(): BreakerState {
    if (this.#forced !== undefined) return this.#forced;
    if (this.#state === 'open' && this.now() - this.#openedAt >= this.settings.openMs) this.#to('half-open', 'open timeout elapsed');
    return this.#state;
  }

  get forced(): ForcedState {
    return this.#forced;
  }

  /** Operator override; undefined returns to automatic operation (closed, fresh window). */
  force(state: ForcedState): void {
    const before = this.state;
    this.#forced = state;
    if (state === undefined) {
      this.#reset();
      this.#state = 'closed';
    }
    const after = this.state;
    if (before !== after) this.onTransition(before, after, state === undefined ? 'override cleared' : `forced ${state}`);
  }

  /** Milliseconds until an open circuit probes again (0 when not open; forced open: openMs). */
  retryAfterMs(): number {
    const state = this.state;
    if (state !== 'open') return 0;
    if (this.#forced === 'open') return this.settings.openMs;
    return Math.max(0, this.settings.openMs - (this.now() - this.#openedAt));
  }

  /**
   * May a call go through? Half-open takes a probe slot: the caller must give it back with
   * releaseProbe() when the call ends, whatever its outcome.
   */
  tryAcquire(): 'pass' | 'probe' | 'reject' {
    const state = this.state;
    if (state === 'closed') return 'pass';
    if (state === 'open') return 'reject';
    if (this.#probes >= this.settings.halfOpenProbes) return 'reject';
    this.#probes++;
    return 'probe';
  }

  /** Give back a probe slot taken with tryAcquire() during half-open period `generation`. */
  releaseProbe(generation: number): void {
    if (generation === this.#generation && this.#probes > 0) this.#probes--;
  }

  /** Identifies the current half-open period (pass it back to releaseProbe). */
  get generation(): number {
    return this.#generation;
  }

  /** Concurrent probes allowed while half-open. */
  get halfOpenProbes(): number {
    return this.settings.halfOpenProbes;
  }

  /** Probes currently out (half-open). */
  get probes(): number {
    return this.#probes;
  }

  /** Record a finished call. */
  record(failure: boolean, durationMs: number): void {
    if (this.#forced !== undefined) return;
    const state = this.state;
    if (state === 'open') return;
    if (state === 'half-open') {
      if (failure) return this.#open('probe failed');
      if (++this.#probeSuccesses >= this.settings.successThreshold) {
        this.#reset();
        this.#to('closed', `${this.#probeSuccesses} probes succeeded`);
      }
      return;
    }
    const s = this.settings;
    const slow = s.slowCallMs > 0 && durationMs >= s.slowCallMs;
    const i = this.#bucket();
    this.#calls[i]!++;
    if (failure) this.#failures[i]!++;
    if (slow) this.#slow[i]!++;
    this.#consecutive = failure ? this.#consecutive + 1 : 0;
    if (s.consecutiveFailures > 0 && this.#consecutive >= s.consecutiveFailures) return this.#open(`${this.#consecutive} consecutive failures`);
    const { calls, failures, slowCalls } = this.window();
    if (calls < s.minRequests) return;
    if (s.failureRate > 0 && failures / calls >= s.failureRate) return this.#open(`failure rate ${pct(failures / calls)} over ${calls} calls`);
    if (slow && s.slowCallRate > 0 && slowCalls / calls >= s.slowCallRate) return this.#open(`slow-call rate ${pct(slowCalls / calls)} over ${calls} calls`);
  }

  /** Counts of the rolling window (buckets older than the window are ignored). */
  window(): { calls: number; failures: number; slowCalls: number } {
    const current = Math.floor(this.now() / this.#bucketMs);
    const n = this.#calls.length;
    let calls = 0;
    let failures = 0;
    let slowCalls = 0;
    for (let i = 0; i < n; i++) {
      if (current - this.#epochs[i]! >= n) continue;
      calls += this.#calls[i]!;
      failures += this.#failures[i]!;
      slowCalls += this.#slow[i]!;
    }
    return { calls, failures, slowCalls };
  }

  #bucket(): number {
    const epoch = Math.floor(this.now() / this.#bucketMs);
    const i = epoch % this.#calls.length;
    if (this.#epochs[i] !== epoch) {
      this.#epochs[i] = epoch;
      this.#calls[i] = 0;
      this.#failures[i] = 0;
      this.#slow[i] = 0;
    }
    return i;
  }

  #open(reason: string): void {
    this.#openedAt = this.now();
    this.#generation++;
    this.#probes = 0;
    this.#probeSuccesses = 0;
    this.#to('open', reason);
  }

  #reset(): void {
    this.#calls.fill(0);
    this.#failures.fill(0);
    this.#slow.fill(0);
    this.#epochs.fill(-1);
    this.#consecutive = 0;
    this.#generation++;
    this.#probes = 0;
    this.#probeSuccesses = 0;
  }

  #to(next: BreakerState, reason: string): void {
    const from = this.#state;
    if (from === next) return;
    this.#state = next;
    if (next === 'half-open') this.#probeSuccesses = 0;
    this.onTransition(from, next, reason);
  }
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, open: 1, 'half-open': 2 };
