import type { MetricsJson } from '../observability/metrics.ts';
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { AppliedUpdate, ListenerConnections, LogLevelsState, RemoteDataPlane, TargetLoad, WorkerStatus } from '../admin/control-plane.ts';
import { RequestSummary, type SerializedSummary, type SummarySnapshot } from '../observability/summary.ts';
import type { HealthOverride } from '../upstream/target-overlay.ts';
import type { ActiveHealth } from '../upstream/target-state.ts';
import { configuredCircuits, circuitKey, mergeResilience, type ClusterResilience, type ForcedCircuit, type ResilienceReport } from './circuits.ts';
import { isWorkerMessage, RequestTracker, type WorkerRequest } from './ipc.ts';

const START_TIMEOUT_MS = 30_000;
const APPLY_TIMEOUT_MS = 10_000;
const QUERY_TIMEOUT_MS = 2_000;
/** At most one replacement per second, so a worker that crashes at once cannot spin the CPU. */
const RESTART_INTERVAL_MS = 1_000;
/** Past the drain deadline, how long workers get to exit before they are killed. */
const STOP_MARGIN_MS = 5_000;

export interface WorkerPoolOptions {
  count: number;
  /** Directory the config's relative paths (plugins, secret files) resolve against. */
  baseDir: string;
  logger: Logger;
}

interface Slot {
  worker: Worker;
  status: WorkerStatus['status'];
  version: number;
  startedAt: number;
}

/**
 * The primary's side of multi-process mode: forks the workers (which share the public ports through
 * node:cluster), puts every applied config in force in each, replaces a crashed one, sums their
 * state for the admin API and drains them all on stop.
 */
export class WorkerPool implements RemoteDataPlane {
  readonly #slots = new Map<number, Slot>();
  readonly #requests = new RequestTracker();
  readonly #hello = new Map<number, () => void>();
  #current: AppliedUpdate | undefined;
  /** Circuits the operator forced, by circuitKey(): every worker gets them with each config it applies. */
  readonly #circuits = new Map<string, ForcedCircuit>();
  #started = false;
  #stopping = false;
  #lastFork = 0;

  constructor(private readonly options: WorkerPoolOptions) {
    cluster.on('message', (worker, message: unknown) => {
      if (!isWorkerMessage(message)) return;
      if (message.type === 'hello') this.#hello.get(worker.id)?.();
      else this.#requests.settle(message);
    });
    cluster.on('exit', (worker, code, signal) => this.#exited(worker, code, signal));
  }

  /** Fork every worker and wait until each serves the current config; throws if one cannot. */
  async start(): Promise<void> {
    const results = await Promise.allSettled(Array.from({ length: this.options.count }, () => this.#fork()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      await this.stop(0);
      throw failed.reason;
    }
    this.#started = true;
  }

  async #fork(): Promise<void> {
    this.#lastFork = Date.now();
    const worker = cluster.fork();
    const slot: Slot = { worker, status: 'forked', version: 0, startedAt: Date.now() };
    this.#slots.set(worker.id, slot);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`worker ${worker.process.pid} did not start in ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
        worker.once('exit', () => reject(new Error(`worker ${worker.process.pid} exited while starting`)));
        this.#hello.set(worker.id, () => (clearTimeout(timer), resolve()));
      });
      slot.status = 'starting';
      await this.#apply(slot, this.#current!, START_TIMEOUT_MS);
      slot.status = 'up';
      this.options.logger.info({ worker: worker.id, pid: worker.process.pid, version: slot.version }, 'worker started');
    } catch (error) {
      worker.process.kill('SIGKILL');
      throw error;
    } finally {
      this.#hello.delete(worker.id);
    }
  }

  async #apply(slot: Slot, update: AppliedUpdate, timeoutMs: number): Promise<void> {
    // The forced circuits as they are now (a replacement worker gets the ones forced since the config applied).
    const circuits = Object.fromEntries(this.#circuits);
    await this.#requests.request(slot.worker, { type: 'apply', baseDir: this.options.baseDir, ...update, circuits }, timeoutMs);
    slot.version = Math.max(slot.version, update.version);
  }

  #exited(worker: Worker, code: number | null, signal: string | null): void {
    const slot = this.#slots.get(worker.id);
    if (slot === undefined) return;
    this.#slots.delete(worker.id);
    this.#requests.failWorker(worker.id, `worker ${worker.process.pid} exited`);
    if (this.#stopping || !this.#started) return;
    this.options.logger.error({ worker: worker.id, pid: worker.process.pid, code, signal }, 'worker exited unexpectedly; starting a replacement');
    this.#replace();
  }

  #replace(): void {
    const wait = Math.max(0, this.#lastFork + RESTART_INTERVAL_MS - Date.now());
    setTimeout(() => {
      if (this.#stopping) return;
      // A replacement that fails to start exits too, and is replaced in turn (rate-limited).
      this.#fork().catch((error: unknown) => this.options.logger.error({ err: error }, 'replacement worker failed to start'));
    }, wait);
  }

  /** Workers that have been sent (or will get) the current config. */
  #live(): Slot[] {
    return [...this.#slots.values()].filter((s) => s.status === 'starting' || s.status === 'up');
  }

  async applied(update: AppliedUpdate): Promise<void> {
    this.#current = update;
    // A breaker the config no longer has (upstream, target or circuitBreaker removed) forgets its forced state.
    const configured = configuredCircuits(update.document);
    for (const key of [...this.#circuits.keys()]) if (!configured.has(key)) this.#circuits.delete(key);
    await Promise.all(
      this.#live().map((slot) =>
        this.#apply(slot, update, APPLY_TIMEOUT_MS).catch((error: unknown) =>
          this.options.logger.error({ err: error, worker: slot.worker.id, pid: slot.worker.process.pid, version: update.version }, 'worker did not apply the config'),
        ),
      ),
    );
  }

  async setLogLevels(levels: LogLevelsState): Promise<void> {
    // A worker started later gets these with its first config.
    if (this.#current !== undefined) this.#current = { ...this.#current, logLevels: levels };
    await this.#ask({ type: 'log-levels', levels }, APPLY_TIMEOUT_MS);
  }

  async setHealth(upstream: string, url: string, state: HealthOverride | 'auto'): Promise<void> {
    await this.#ask({ type: 'health', upstream, url, state }, APPLY_TIMEOUT_MS);
  }

  async forceCircuit(upstream: string, target: string | undefined, state: ForcedCircuit | 'auto'): Promise<void> {
    const key = circuitKey(upstream, target);
    if (state === 'auto') this.#circuits.delete(key);
    else this.#circuits.set(key, state);
    await this.#ask({ type: 'circuit', upstream, ...(target === undefined ? {} : { target }), state }, APPLY_TIMEOUT_MS);
  }

  async resilience(): Promise<ClusterResilience> {
    return mergeResilience(await this.#ask<ResilienceReport>({ type: 'query', what: 'resilience' }, QUERY_TIMEOUT_MS), this.#circuits);
  }

  async activeHealth(states: Record<string, ActiveHealth>): Promise<void> {
    // A worker started later gets every state with its first config.
    if (this.#current !== undefined) this.#current = { ...this.#current, activeHealth: { ...this.#current.activeHealth, ...states } };
    await this.#ask({ type: 'active-health', states }, APPLY_TIMEOUT_MS);
  }

  ready(): boolean {
    return !this.#stopping && [...this.#slots.values()].some((s) => s.status === 'up');
  }

  workers(): WorkerStatus[] {
    return [...this.#slots.values()].map((s) => ({
      id: s.worker.id,
      pid: s.worker.process.pid ?? 0,
      status: s.status,
      version: s.version,
      startedAt: new Date(s.startedAt).toISOString(),
    }));
  }

  async connections(): Promise<ListenerConnections[]> {
    return mergeConnections(await this.#ask<ListenerConnections[]>({ type: 'query', what: 'connections' }, QUERY_TIMEOUT_MS));
  }

  async targetLoad(): Promise<Map<string, TargetLoad>> {
    const merged = new Map<string, TargetLoad>();
    for (const list of await this.#ask<Array<[string, TargetLoad]>>({ type: 'query', what: 'targets' }, QUERY_TIMEOUT_MS)) {
      for (const [key, load] of list) {
        const seen = merged.get(key);
        if (seen === undefined) {
          merged.set(key, { inflight: load.inflight, ejected: load.ejected ?? 0, pool: { ...load.pool } });
          continue;
        }
        seen.inflight += load.inflight;
        seen.ejected = (seen.ejected ?? 0) + (load.ejected ?? 0);
        for (const field of Object.keys(seen.pool) as Array<keyof TargetLoad['pool']>) seen.pool[field] += load.pool[field];
      }
    }
    return merged;
  }

  /** Every worker's data-plane metrics (summed by the caller). */
  metrics(): Promise<MetricsJson[]> {
    return this.#ask<MetricsJson>({ type: 'query', what: 'metrics' }, QUERY_TIMEOUT_MS);
  }

  async summary(): Promise<SummarySnapshot> {
    const states = await this.#ask<SerializedSummary | null>({ type: 'query', what: 'summary' }, QUERY_TIMEOUT_MS);
    return RequestSummary.merge(states.filter((s): s is SerializedSummary => s !== null));
  }

  /** Ask every live worker; one that fails or is too slow is left out (and logged). */
  async #ask<T>(request: WorkerRequest, timeoutMs: number): Promise<T[]> {
    const results = await Promise.allSettled(this.#live().map((slot) => this.#requests.request(slot.worker, request, timeoutMs)));
    const answers: T[] = [];
    for (const r of results) {
      if (r.status === 'fulfilled') answers.push(r.value as T);
      else this.options.logger.warn({ err: r.reason, request: request.type }, 'a worker did not answer');
    }
    return answers;
  }

  async stop(deadlineMs: number): Promise<void> {
    this.#stopping = true;
    const slots = [...this.#slots.values()];
    const exits = slots.map((s) => (s.worker.isDead() ? Promise.resolve() : new Promise<void>((r) => s.worker.once('exit', () => r()))));
    for (const slot of slots) {
      slot.status = 'stopping';
      if (slot.worker.isConnected()) slot.worker.send({ type: 'stop', deadlineMs }, undefined, undefined, () => undefined);
      else slot.worker.process.kill('SIGTERM');
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), deadlineMs + STOP_MARGIN_MS)));
    if ((await Promise.race([Promise.all(exits), late])) === 'late') {
      this.options.logger.warn('workers did not exit by the deadline; killing them');
      for (const slot of slots) slot.worker.process.kill('SIGKILL');
      await Promise.all(exits);
    }
    clearTimeout(timer);
  }
}

/**
 * Every worker's listener connections summed per listener: counters (open, total, idle, websockets,
 * …) add up, and so do count maps (websocketsByRoute) key by key; the listener and its address are
 * the same everywhere.
 */
export function mergeConnections(perWorker: ListenerConnections[][]): ListenerConnections[] {
  const merged = new Map<string, Record<string, unknown>>();
  for (const list of perWorker) {
    for (const c of list) {
      const seen = merged.get(c.listener);
      if (seen === undefined) {
        merged.set(c.listener, { ...c, ...(c.websocketsByRoute ? { websocketsByRoute: { ...c.websocketsByRoute } } : {}) });
        continue;
      }
      for (const [k, v] of Object.entries(c)) {
        if (typeof v === 'number') seen[k] = ((seen[k] as number | undefined) ?? 0) + v;
        else if (v !== null && typeof v === 'object') {
          const into = (seen[k] ??= {}) as Record<string, number>;
          for (const [name, n] of Object.entries(v as Record<string, number>)) into[name] = (into[name] ?? 0) + n;
        }
      }
    }
  }
  return [...merged.values()] as unknown as ListenerConnections[];
}
