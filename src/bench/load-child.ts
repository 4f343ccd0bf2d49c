/**
 * Parent side of the load worker: spawns it (pinned when asked) and runs scenarios in it.
 * Every run is bounded by warmup + duration + a margin; a stuck worker is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pinPrefix } from './cpu.ts';
import type { LoadOptions, LoadResult } from './load-generator.ts';

export type WorkerOptions = Omit<LoadOptions, 'scenario'> & { scenario: string };
export interface WorkerRequest { id: number; options: WorkerOptions }
export type WorkerReply = { id: number; result: LoadResult } | { id: number; error: string } | { ready: true };

const MARGIN_MS = 15_000;
const START_TIMEOUT_MS = 10_000;

// Same extension as this module: .ts under tsx, .js once compiled.
const workerFile = fileURLToPath(new URL(`./load-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

export class LoadChild {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(r: LoadResult): void; reject(e: Error): void }>();
  private onReady: (() => void) | null = null;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: WorkerReply) => {
      if ('ready' in reply) return this.onReady?.();
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if ('result' in reply) p.resolve(reply.result);
      else p.reject(new Error(`load worker: ${reply.error}`));
    });
    child.on('exit', (code, signal) => this.failAll(`load worker exited (${signal ?? code})`));
    child.on('error', (err) => this.failAll(`load worker: ${err.message}`));
  }

  private failAll(why: string): void {
    for (const p of this.pending.values()) p.reject(new Error(why));
    this.pending.clear();
    this.onReady?.();
  }

  /**
   * Start the worker; `core` pins it with taskset (null: unpinned). Resolves once it is listening
   * for work, so its start-up time never eats into a scenario's warmup.
   */
  static async start(core: number | null): Promise<LoadChild> {
    // process.execArgv carries the parent's loader (--import tsx) so the .ts worker runs too.
    const argv = [...pinPrefix(core), process.execPath, ...process.execArgv, workerFile];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const lc = new LoadChild(child);
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      lc.onReady = resolve;
      timer = setTimeout(resolve, START_TIMEOUT_MS);
    });
    clearTimeout(timer);
    lc.onReady = null;
    if (!lc.alive) throw new Error('load worker failed to start');
    return lc;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.connected;
  }

  run(options: WorkerOptions): Promise<LoadResult> {
    if (!this.alive) return Promise.reject(new Error('load worker is not running'));
    const id = this.nextId++;
    const limit = options.warmupMs + options.durationMs + MARGIN_MS;
    return new Promise<LoadResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`load worker gave no result within ${limit} ms`));
        this.child.kill('SIGKILL');
      }, limit);
      const done = <T>(f: (v: T) => void) => (v: T) => {
        clearTimeout(timer);
        f(v);
      };
      this.pending.set(id, { resolve: done(resolve), reject: done(reject) });
      this.child.send({ id, options } satisfies WorkerRequest);
    });
  }

  /** Disconnecting makes the worker exit; SIGKILL if it has not within 2 s. */
  async close(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    if (child.connected) child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }
}
