import type { Worker } from 'node:cluster';
import type { AppliedUpdate, LogLevelsState } from '../admin/control-plane.ts';
import type { HealthOverride } from '../upstream/target-overlay.ts';
import type { ActiveHealth } from '../upstream/target-state.ts';
import type { ForcedCircuit } from './circuits.ts';

/** What the primary asks a worker for; answers come as `reply` messages with the same id. */
export type WorkerRequest =
  | ({ type: 'apply'; baseDir: string } & AppliedUpdate)
  | { type: 'health'; upstream: string; url: string; state: HealthOverride | 'auto' }
  /** Active health check results from the primary (the only process that runs checks). */
  | { type: 'active-health'; states: Record<string, ActiveHealth> }
  | { type: 'log-levels'; levels: LogLevelsState }
  /** Force the upstream's circuit breaker (or one target's); auto returns it to automatic operation. */
  | { type: 'circuit'; upstream: string; target?: string; state: ForcedCircuit | 'auto' }
  | { type: 'query'; what: 'connections' | 'targets' | 'summary' | 'metrics' | 'resilience' };

export type PrimaryMessage = (WorkerRequest & { id: number }) | { type: 'stop'; deadlineMs: number };

export type WorkerMessage =
  /** The worker listens for messages: anything sent earlier could be lost. */
  | { type: 'hello' }
  | { type: 'reply'; id: number; ok: true; data?: unknown }
  | { type: 'reply'; id: number; ok: false; error: string };

export function isWorkerMessage(message: unknown): message is WorkerMessage {
  const type = (message as { type?: unknown } | null)?.type;
  return type === 'hello' || type === 'reply';
}

interface Pending {
  worker: number;
  resolve(data: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** Requests to workers matched with their replies by id; every wait is bounded. */
export class RequestTracker {
  #next = 1;
  readonly #pending = new Map<number, Pending>();

  request(worker: Worker, request: WorkerRequest, timeoutMs: number): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.#fail(id, new Error(`worker ${worker.process.pid} did not answer "${request.type}" in ${timeoutMs} ms`)), timeoutMs);
      this.#pending.set(id, { worker: worker.id, resolve, reject, timer });
      const message: PrimaryMessage = { ...request, id };
      try {
        worker.send(message, undefined, undefined, (error: Error | null) => {
          if (error !== null) this.#fail(id, error);
        });
      } catch (error) {
        this.#fail(id, error as Error);
      }
    });
  }

  settle(message: WorkerMessage): void {
    if (message.type !== 'reply') return;
    const pending = this.#pending.get(message.id);
    if (pending === undefined) return;
    this.#pending.delete(message.id);
    clearTimeout(pending.timer);
    if (message.ok) pending.resolve(message.data);
    else pending.reject(new Error(message.error));
  }

  /** A worker is gone: nothing it was asked will be answered. */
  failWorker(workerId: number, reason: string): void {
    for (const [id, pending] of this.#pending) if (pending.worker === workerId) this.#fail(id, new Error(reason));
  }

  #fail(id: number, error: Error): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    pending.reject(error);
  }
}
