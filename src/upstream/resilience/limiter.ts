/**
 * Concurrency limit with a bounded, prioritised wait queue. Up to `max` holders at once; others
 * wait (at most `maxQueue` of them, each at most `queueTimeoutMs`). A freed slot goes to the
 * highest-priority waiter (FIFO within a class). A full queue makes room for a higher-priority
 * arrival by shedding its newest lowest-priority waiter; otherwise the arrival is refused.
 * Pure bookkeeping plus one timer per waiter; per process (each worker has its own).
 */
export type LimitRejection = 'limit' | 'queue-timeout' | 'shed';

export interface LimitSettings {
  max: number;
  maxQueue: number;
  queueTimeoutMs: number;
}

export interface Waiter {
  readonly priority: number;
  granted: () => void;
  rejected: (why: LimitRejection) => void;
  timer: NodeJS.Timeout | undefined;
  /** Set once granted, rejected or cancelled: the waiter is out of every queue. */
  done: boolean;
}

/** Number of priority classes (0 = lowest … 3 = critical). */
export const PRIORITY_LEVELS = 4;

export class ConcurrencyLimiter {
  inflight = 0;
  #queued = 0;
  /** One FIFO per priority level. */
  readonly #queues: Waiter[][] = Array.from({ length: PRIORITY_LEVELS }, () => []);

  constructor(public settings: LimitSettings) {}

  get queued(): number {
    return this.#queued;
  }

  /**
   * Ask for a slot: `granted` runs now (returns undefined) or later; `rejected` runs instead when
   * the queue is full, the wait timed out or a higher-priority request displaced this one.
   * The returned waiter can be cancelled (client gone while queued).
   */
  acquire(priority: number, granted: () => void, rejected: (why: LimitRejection) => void): Waiter | undefined {
    if (this.inflight < this.settings.max && this.#queued === 0) {
      this.inflight++;
      granted();
      return undefined;
    }
    if (this.#queued >= this.settings.maxQueue && !this.#shedBelow(priority)) {
      rejected('limit');
      return undefined;
    }
    const waiter: Waiter = { priority, granted, rejected, timer: undefined, done: false };
    if (this.settings.queueTimeoutMs > 0) {
      waiter.timer = setTimeout(() => {
        if (this.#remove(waiter)) waiter.rejected('queue-timeout');
      }, this.settings.queueTimeoutMs);
      waiter.timer.unref?.();
    }
    this.#queues[priority]!.push(waiter);
    this.#queued++;
    return waiter;
  }

  /** The client went away while waiting. */
  cancel(waiter: Waiter): void {
    this.#remove(waiter);
  }

  /** A holder finished: hand its slot to the best waiter. */
  release(): void {
    this.inflight--;
    this.#drain();
  }

  /** Settings changed (reload): a bigger limit admits waiters now. */
  reconfigure(settings: LimitSettings): void {
    this.settings = settings;
    this.#drain();
  }

  #drain(): void {
    while (this.inflight < this.settings.max && this.#queued > 0) {
      const waiter = this.#takeHighest();
      if (waiter === undefined) return;
      this.inflight++;
      waiter.granted();
    }
  }

  #takeHighest(): Waiter | undefined {
    for (let p = PRIORITY_LEVELS - 1; p >= 0; p--) {
      const q = this.#queues[p]!;
      if (q.length > 0) {
        const waiter = q.shift()!;
        this.#finish(waiter);
        return waiter;
      }
    }
    return undefined;
  }

  /** Shed the newest waiter of the lowest class below `priority`; true when one was shed. */
  #shedBelow(priority: number): boolean {
    for (let p = 0; p < priority; p++) {
      const q = this.#queues[p]!;
      if (q.length > 0) {
        const waiter = q.pop()!;
        this.#finish(waiter);
        waiter.rejected('shed');
        return true;
      }
    }
    return false;
  }

  #remove(waiter: Waiter): boolean {
    if (waiter.done) return false;
    const q = this.#queues[waiter.priority]!;
    const i = q.indexOf(waiter);
    if (i >= 0) q.splice(i, 1);
    this.#finish(waiter);
    return true;
  }

  #finish(waiter: Waiter): void {
    waiter.done = true;
    this.#queued--;
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
  }
}
