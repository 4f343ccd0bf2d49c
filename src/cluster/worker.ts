import cluster from 'node:cluster';
import { createGateway, type Gateway } from '../gateway.ts';
import { createLogger, flushLogger } from '../observability/logger.ts';
import type { AppliedUpdate } from '../admin/control-plane.ts';
import { applyForcedCircuits, localResilience } from './circuits.ts';
import type { PrimaryMessage, WorkerMessage, WorkerRequest } from './ipc.ts';

const noop = (): void => undefined;

function send(message: WorkerMessage): void {
  // The primary may be gone (it exits after we do, or crashed): nothing to tell then.
  if (process.connected) process.send!(message, undefined, undefined, noop);
}

/**
 * The primary's view of target health, put in force here: operator overrides (up, down, drained)
 * and active check results. Outlier ejection stays per worker (it learns from this worker's traffic).
 */
export function applyHealth(gateway: Pick<Gateway, 'current' | 'health'>, update: Pick<AppliedUpdate, 'health' | 'activeHealth'>): void {
  const registry = gateway.health.registry;
  for (const upstream of gateway.current().upstreams.values()) {
    for (const target of upstream.targets) registry.setOverride(upstream.name, target.id, update.health[`${upstream.name} ${target.id}`]);
  }
  if (update.activeHealth !== undefined) registry.applyActive(update.activeHealth);
}

/** An operator override or a batch of active check results sent by the primary. */
export function applyHealthMessage(gateway: Pick<Gateway, 'health'>, request: Extract<WorkerRequest, { type: 'health' | 'active-health' }>): void {
  const registry = gateway.health.registry;
  if (request.type === 'active-health') registry.applyActive(request.states);
  else registry.setOverride(request.upstream, request.url, request.state === 'auto' ? undefined : request.state);
}

/**
 * A cluster worker: serves public traffic with the config the primary sends, and answers its
 * queries. No admin API, watcher or state directory here: the primary runs the control plane.
 */
class WorkerProcess {
  readonly #bindings = { worker: cluster.worker?.id, pid: process.pid };
  /** Until the gateway exists (and its configured sinks with it): stdout. */
  readonly #bootLogger = createLogger({ bindings: this.#bindings });
  #gateway: Gateway | undefined;

  get logger() {
    return this.#gateway?.logging.module('cluster') ?? this.#bootLogger;
  }
  #stopping = false;
  #queue: Promise<unknown> = Promise.resolve();

  onMessage(message: PrimaryMessage): void {
    if (message.type === 'stop') return this.stop({ deadlineMs: message.deadlineMs, drainDelayMs: 0 });
    // Queries are answered at once; config and health changes take effect in the order sent.
    const run = message.type === 'query' ? this.#handle(message) : this.#queue.then(() => this.#handle(message));
    if (message.type !== 'query') this.#queue = run.then(noop, noop);
    run.then(
      (data) => send({ type: 'reply', id: message.id, ok: true, data }),
      (error: unknown) => send({ type: 'reply', id: message.id, ok: false, error: (error as Error).message }),
    );
  }

  async #handle(request: WorkerRequest): Promise<unknown> {
    const gateway = this.#gateway;
    if (request.type === 'query') {
      if (request.what === 'connections') return gateway?.local.connections() ?? [];
      if (request.what === 'targets') return gateway?.local.targetLoad() ?? [];
      if (request.what === 'metrics') return gateway?.local.exportMetrics() ?? [];
      if (request.what === 'resilience') return localResilience(gateway?.current().upstreams.values() ?? []);
      return gateway?.local.exportSummary() ?? null;
    }
    if (request.type === 'log-levels') {
      gateway?.logging.forceLevels(request.levels);
      return undefined;
    }
    if (request.type === 'health' || request.type === 'active-health') {
      if (gateway !== undefined) applyHealthMessage(gateway, request);
      return undefined;
    }
    if (request.type === 'circuit') {
      // The guard outlives snapshots: forcing it through the current one holds for later ones too.
      const guard = gateway?.current().upstreams.get(request.upstream)?.resilience;
      guard?.force(request.state === 'auto' ? undefined : request.state, request.target);
      return undefined;
    }
    return this.#apply(request);
  }

  async #apply(request: Extract<WorkerRequest, { type: 'apply' }>): Promise<unknown> {
    const raw = request.document as { admin?: object };
    const document = { ...raw, admin: { ...raw.admin, enabled: false } };
    if (this.#gateway === undefined) {
      const created = await createGateway(document, { baseDir: request.baseDir, logBindings: this.#bindings, activeHealthChecks: false });
      // The primary's check results before the first request (not "unknown" for a moment).
      applyHealth(created, request);
      applyForcedCircuits(created.current().upstreams.values(), request.circuits ?? {});
      await created.start();
      this.#gateway = created;
    } else {
      const outcome = await this.#gateway.reload(document, 'primary');
      if (!outcome.ok) throw new Error(`config rejected: ${outcome.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
    }
    applyHealth(this.#gateway, request);
    applyForcedCircuits(this.#gateway.current().upstreams.values(), request.circuits ?? {});
    if (request.logLevels !== undefined) this.#gateway.logging.forceLevels(request.logLevels);
    return { version: request.version };
  }

  stop(options: { deadlineMs?: number; drainDelayMs?: number }): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#queue
      .then(() => this.#gateway?.stop(options))
      .then(
        () => process.exit(0),
        (error: unknown) => {
          this.logger.error({ err: error }, 'worker stop failed');
          flushLogger(this.logger);
          process.exit(1);
        },
      );
  }
}

export function runWorker(): void {
  const worker = new WorkerProcess();
  process.on('message', (message: PrimaryMessage) => worker.onMessage(message));
  // The primary coordinates reloads and terminal interrupts; a SIGTERM sent here drains this worker.
  process.on('SIGHUP', noop);
  process.on('SIGINT', noop);
  process.on('SIGTERM', () => worker.stop({}));
  send({ type: 'hello' });
}
