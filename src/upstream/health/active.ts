import type { HealthCheckConfig, UpstreamConfig } from '../../config/schema/index.ts';
import { parseDuration } from '../../config/units.ts';
import type { ActiveHealth, HealthRegistry } from '../target-state.ts';
import type { Target } from '../upstream.ts';
import { createProbe, type Probe } from './probes.ts';

/** Run lengths of one target's check results. */
export interface CheckRun {
  passes: number;
  fails: number;
}

/**
 * The active state after one check. A new target (`unknown`) turns healthy on its first pass and
 * unhealthy on its first failure; afterwards the thresholds apply.
 */
export function afterCheck(current: ActiveHealth, run: CheckRun, passed: boolean, healthyThreshold: number, unhealthyThreshold: number): ActiveHealth {
  if (passed) {
    run.passes++;
    run.fails = 0;
  } else {
    run.fails++;
    run.passes = 0;
  }
  if (current === 'unknown') return passed ? 'healthy' : 'unhealthy';
  if (current === 'healthy' && run.fails >= unhealthyThreshold) return 'unhealthy';
  if (current === 'unhealthy' && run.passes >= healthyThreshold) return 'healthy';
  return current;
}

export interface CheckResult {
  upstream: string;
  url: string;
  passed: boolean;
  durationMs: number;
  reason: string | null;
  /** The active state changed with this result. */
  changed: ActiveHealth | undefined;
}

class Checker {
  readonly run: CheckRun = { passes: 0, fails: 0 };
  #timer: NodeJS.Timeout | undefined;
  #abort: AbortController | undefined;
  #stopped = false;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #jitterMs: number;

  constructor(
    readonly key: string,
    readonly upstream: string,
    readonly url: string,
    private readonly config: HealthCheckConfig,
    private readonly probe: Probe,
    private readonly done: (checker: Checker, passed: boolean, durationMs: number, reason: string | null) => void,
  ) {
    this.#intervalMs = parseDuration(config.interval ?? '5s');
    this.#timeoutMs = parseDuration(config.timeout ?? '2s');
    this.#jitterMs = parseDuration(config.jitter ?? '1s');
  }

  get healthyThreshold(): number {
    return this.config.healthyThreshold ?? 2;
  }

  get unhealthyThreshold(): number {
    return this.config.unhealthyThreshold ?? 3;
  }

  /** First check at once: a gateway starting with checks configured serves as soon as it passes. */
  start(): void {
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#check(), ms);
    this.#timer.unref();
  }

  async #check(): Promise<void> {
    const abort = (this.#abort = new AbortController());
    const timer = setTimeout(() => abort.abort(), this.#timeoutMs);
    const started = performance.now();
    // The deadline holds even if a probe failed to notice the abort (a check must never hang).
    const deadline = new Promise<string>((resolve) => abort.signal.addEventListener('abort', () => resolve('timeout'), { once: true }));
    let reason: string | null;
    try {
      reason = await Promise.race([this.probe(abort.signal), deadline]);
    } catch (error) {
      reason = (error as Error).message;
    }
    clearTimeout(timer);
    if (this.#stopped) return;
    this.done(this, reason === null, performance.now() - started, reason);
    this.#schedule(this.#intervalMs + Math.random() * this.#jitterMs);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#abort?.abort();
  }
}

/**
 * Active health checks of every upstream that configures `healthCheck`, run in the process that
 * owns the control plane (single process, or the multi-process primary, which broadcasts results).
 * Checkers of unchanged targets survive reloads; removed targets' checkers stop.
 */
export class ActiveChecks {
  readonly #checkers = new Map<string, Checker>();

  constructor(
    private readonly registry: HealthRegistry,
    private readonly onResult: (result: CheckResult) => void,
  ) {}

  sync(upstreams: Iterable<{ config: UpstreamConfig; targets: readonly Target[] }>): void {
    const wanted = new Set<string>();
    for (const { config, targets } of upstreams) {
      if (config.healthCheck === undefined) continue;
      const settings = JSON.stringify(config.healthCheck);
      for (const t of targets) {
        const id = `${config.name} ${t.id}`;
        const key = `${settings} ${JSON.stringify(t.connectOptions?.tls ?? null)}`;
        wanted.add(id);
        const existing = this.#checkers.get(id);
        if (existing?.key === key) continue;
        existing?.stop();
        const checker = new Checker(key, config.name, t.id, config.healthCheck, createProbe(config.healthCheck, t.url, t.connectOptions?.tls), (c, passed, ms, reason) =>
          this.#done(c, passed, ms, reason),
        );
        this.#checkers.set(id, checker);
        checker.start();
      }
    }
    for (const [id, checker] of this.#checkers) {
      if (wanted.has(id)) continue;
      checker.stop();
      this.#checkers.delete(id);
    }
  }

  #done(checker: Checker, passed: boolean, durationMs: number, reason: string | null): void {
    const state = this.registry.get(checker.upstream, checker.url);
    if (state === undefined) return;
    if (passed) state.checksPassed++;
    else state.checksFailed++;
    const next = afterCheck(state.active, checker.run, passed, checker.healthyThreshold, checker.unhealthyThreshold);
    const changed = this.registry.setActive(checker.upstream, checker.url, next) ? next : undefined;
    this.onResult({ upstream: checker.upstream, url: checker.url, passed, durationMs, reason, changed });
  }

  get size(): number {
    return this.#checkers.size;
  }

  close(): void {
    for (const c of this.#checkers.values()) c.stop();
    this.#checkers.clear();
  }
}
