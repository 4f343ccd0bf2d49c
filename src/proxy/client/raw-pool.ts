import type { ErrorCode } from '../../errors/index.ts';
import { C_BUSY, C_CONNECTING, C_READY, Connection, type ConnectionOwner } from './connection.ts';
import { failLater, RawCall, type CallOwner } from './raw-call.ts';
import { targetOf, type Target } from './target.ts';
import type { CallHandle, PoolFactory, PoolOptions, PoolStats, ResponseHandler, TargetPool, UpstreamCall } from './types.ts';

/** FIFO of waiting calls; an index instead of Array#shift keeps dequeueing O(1). */
class CallQueue {
  private items: (RawCall | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(call: RawCall): void {
    this.items.push(call);
  }

  shift(): RawCall | undefined {
    if (this.head === this.items.length) return undefined;
    const call = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return call;
  }

  remove(call: RawCall): boolean {
    const i = this.items.indexOf(call, this.head);
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }
}

/**
 * Keep-alive pool of raw sockets to one target: at most `connections` sockets, a FIFO of waiting
 * calls, idle sockets reused last-in-first-out (the warmest one, letting the others expire).
 */
class RawPool implements TargetPool, ConnectionOwner, CallOwner {
  private readonly target: Target;
  private readonly max: number;
  private readonly conns = new Set<Connection>();
  private readonly idle: Connection[] = [];
  private readonly queue = new CallQueue();
  private connecting = 0;
  private busy = 0;
  private connectsTotal = 0;
  private retriesTotal = 0;
  private closed = false;
  private closeWaiters: (() => void)[] = [];

  constructor(options: PoolOptions) {
    this.target = targetOf(options);
    this.max = Math.max(1, options.connections);
  }

  request(call: UpstreamCall, handler: ResponseHandler): CallHandle {
    const rc = new RawCall(this, call, handler); // validates; throws on bad input
    if (this.closed) {
      process.nextTick(failLater, rc, 'SLUICE_ERR_UPSTREAM_CONNECT', 'upstream pool closed');
      return rc;
    }
    const conn = this.queue.length === 0 ? this.idle.pop() : undefined;
    if (conn !== undefined) this.run(conn, rc);
    else {
      this.queue.push(rc);
      this.dispatch();
    }
    return rc;
  }

  stats(): PoolStats {
    return {
      open: this.conns.size,
      idle: this.idle.length,
      inflight: this.busy,
      queued: this.queue.length,
      connectsTotal: this.connectsTotal,
      retriesTotal: this.retriesTotal,
    };
  }

  close(): Promise<void> {
    this.closed = true;
    for (const conn of this.idle.splice(0)) conn.close(null);
    if (this.isDrained()) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  destroy(): void {
    this.closed = true;
    for (let call = this.queue.shift(); call !== undefined; call = this.queue.shift()) {
      call.fail('SLUICE_ERR_UPSTREAM_CONNECT', 'upstream pool destroyed');
    }
    for (const conn of [...this.conns]) {
      const reserved = conn.reserved;
      conn.reserved = null;
      conn.failCall('SLUICE_ERR_UPSTREAM_RESET', 'upstream pool destroyed');
      reserved?.fail('SLUICE_ERR_UPSTREAM_RESET', 'upstream pool destroyed');
    }
    this.checkDrained();
  }

  // ── CallOwner ──────────────────────────────────────────────────────────────────────────────

  abortCall(call: RawCall): void {
    if (call.conn !== null) call.conn.abandon(call);
    else this.queue.remove(call);
    this.checkDrained();
  }

  resumeCall(call: RawCall): void {
    call.conn?.resumeReading();
  }

  // ── ConnectionOwner ────────────────────────────────────────────────────────────────────────

  onConnected(conn: Connection): void {
    this.connecting--;
    const reserved = conn.reserved;
    conn.reserved = null;
    const next = reserved ?? this.queue.shift();
    if (next !== undefined) this.run(conn, next);
    else this.park(conn);
  }

  onConnectFailed(conn: Connection, code: ErrorCode, detail: string, cause: unknown): void {
    this.conns.delete(conn);
    this.connecting--;
    // Each failed connect fails one waiting call: the caller (balancer, health) decides what next.
    const call = conn.reserved ?? this.queue.shift();
    conn.reserved = null;
    if (call !== undefined) {
      call.conn = null;
      call.fail(code, detail, cause);
    }
    this.dispatch();
    this.checkDrained();
  }

  onReleased(conn: Connection): void {
    this.busy--;
    const next = this.queue.shift();
    if (next !== undefined) this.run(conn, next);
    else this.park(conn);
    this.checkDrained();
  }

  onClosed(conn: Connection, prevState: number, retry: RawCall | null): void {
    this.conns.delete(conn);
    if (prevState === C_BUSY) this.busy--;
    else if (prevState === C_CONNECTING) this.connecting--;
    else if (prevState === C_READY) {
      const i = this.idle.lastIndexOf(conn);
      if (i >= 0) this.idle.splice(i, 1);
    }
    if (retry !== null) {
      this.retriesTotal++;
      this.open(retry);
    }
    this.dispatch();
    this.checkDrained();
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────────

  private run(conn: Connection, call: RawCall): void {
    this.busy++;
    conn.assign(call);
  }

  private park(conn: Connection): void {
    if (this.closed || !conn.idle()) conn.close(null);
    else this.idle.push(conn);
  }

  private open(reserved: RawCall | null): void {
    this.connectsTotal++;
    this.connecting++;
    const conn = new Connection(this, this.target);
    this.conns.add(conn);
    if (reserved !== null) {
      conn.reserved = reserved;
      reserved.conn = conn;
    }
  }

  /** Hand queued calls to idle connections, and open new ones while under the limit. */
  private dispatch(): void {
    while (this.queue.length > 0) {
      const conn = this.idle.pop();
      if (conn !== undefined) this.run(conn, this.queue.shift()!);
      else if (this.conns.size < this.max && this.connecting < this.queue.length) this.open(null);
      else break;
    }
  }

  private isDrained(): boolean {
    return this.conns.size === 0 && this.queue.length === 0;
  }

  private checkDrained(): void {
    if (!this.closed || this.closeWaiters.length === 0) return;
    // Idle sockets are closed as soon as no call can use them any more.
    if (this.queue.length === 0) for (const conn of this.idle.splice(0)) conn.close(null);
    if (!this.isDrained()) return;
    const waiters = this.closeWaiters;
    this.closeWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

export const createRawPool: PoolFactory = (options) => new RawPool(options);
