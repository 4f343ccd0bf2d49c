import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { OverloadConfig } from '../../config/schema/index.ts';
import { PRIORITY_CLASSES } from '../../config/schema/resilience.ts';
import { parseDuration } from '../../config/units.ts';

export interface OverloadSettings {
  /** Event-loop delay (p99 over the last interval) above which the process counts as overloaded; 0 = off. */
  lagMs: number;
  /** Heap used as a fraction of the heap limit above which the process counts as overloaded; 0 = off. */
  heapFraction: number;
  intervalMs: number;
  /** While overloaded only requests of this priority level or above are admitted. */
  admitAtLeast: number;
}

export interface OverloadReadings {
  lagMs: number;
  heapFraction: number;
}

/** Pure decision, unit-tested apart from the sampling. */
export function isOverloaded(s: OverloadSettings, r: OverloadReadings): boolean {
  return (s.lagMs > 0 && r.lagMs > s.lagMs) || (s.heapFraction > 0 && r.heapFraction > s.heapFraction);
}

/**
 * Samples event-loop delay and heap use on a timer (never per request) and keeps one boolean the
 * admission path reads. Off (no timer, no histogram) until configured.
 */
export class OverloadMonitor {
  overloaded = false;
  settings: OverloadSettings | undefined;
  last: OverloadReadings = { lagMs: 0, heapFraction: 0 };
  #timer: NodeJS.Timeout | undefined;
  #histogram: IntervalHistogram | undefined;

  constructor(private readonly onChange: (overloaded: boolean, readings: OverloadReadings) => void = () => {}) {}

  configure(settings: OverloadSettings | undefined): void {
    const same = this.settings?.intervalMs === settings?.intervalMs;
    this.settings = settings;
    if (settings === undefined) return this.stop();
    if (same && this.#timer !== undefined) return;
    this.stop();
    this.#histogram = monitorEventLoopDelay({ resolution: 10 });
    this.#histogram.enable();
    this.#timer = setInterval(() => this.sample(), settings.intervalMs);
    this.#timer.unref();
  }

  sample(): void {
    const s = this.settings;
    const h = this.#histogram;
    if (s === undefined || h === undefined) return;
    const heap = getHeapStatistics();
    this.last = { lagMs: h.count > 0 ? h.percentile(99) / 1e6 : 0, heapFraction: heap.used_heap_size / heap.heap_size_limit };
    h.reset();
    const overloaded = isOverloaded(s, this.last);
    if (overloaded !== this.overloaded) {
      this.overloaded = overloaded;
      this.onChange(overloaded, this.last);
    }
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#histogram?.disable();
    this.#timer = undefined;
    this.#histogram = undefined;
    this.overloaded = false;
  }
}

export function overloadSettings(c: OverloadConfig | undefined): OverloadSettings | undefined {
  if (c === undefined || (c.eventLoopLag === undefined && c.heapUsed === undefined)) return undefined;
  return {
    lagMs: c.eventLoopLag === undefined ? 0 : parseDuration(c.eventLoopLag),
    heapFraction: c.heapUsed === undefined ? 0 : c.heapUsed / 100,
    intervalMs: Math.max(10, parseDuration(c.interval ?? '500ms')),
    admitAtLeast: (PRIORITY_CLASSES as readonly string[]).indexOf(c.admitAtLeast ?? 'high'),
  };
}
