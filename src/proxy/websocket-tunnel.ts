import type { Socket } from 'node:net';
import type { WebSocketPolicy } from '../runtime/snapshot.ts';
import { CLOSE_GOING_AWAY, CLOSE_MESSAGE_TOO_BIG, closeFrame, FrameTracker, ScanResult } from './websocket-frames.ts';

/** How long a gateway-initiated close waits for a stream stuck mid-frame, and then for the peers to hang up. */
const CLOSE_GRACE_MS = 2000;

/** Byte counters the tunnel keeps up to date (the request context, read by the access log). */
export interface TunnelCounters {
  /** Bytes sent to the client. */
  bytesSent: number;
  /** Bytes received from the client. */
  bytesReceived: number;
}

export interface TunnelOptions {
  client: Socket;
  upstream: Socket;
  /** Bytes the client sent after its request head / the upstream after its 101 head. */
  clientHead: Buffer;
  upstreamHead: Buffer;
  policy: WebSocketPolicy;
  route: string;
  counters: TunnelCounters;
  /** Both sockets are closed. */
  onClose(tunnel: WebSocketTunnel): void;
}

/** One direction of the tunnel: bytes from `src` to `dst`, followed frame by frame. */
class Direction {
  readonly tracker: FrameTracker;
  /** Bytes of a frame header not yet complete: held back so an injected frame never splits one. */
  held: Buffer | undefined;
  /** Gateway close: our close frame still has to go out (waiting for a frame boundary). */
  pending = false;
  /** Gateway close: our close frame went out; nothing more is forwarded this way. */
  done = false;

  constructor(
    readonly src: Socket,
    readonly dst: Socket,
    /** Towards the upstream the gateway is the client and masks its frames. */
    readonly masked: boolean,
    policy: WebSocketPolicy,
  ) {
    this.tracker = new FrameTracker({ maxFrame: policy.maxFrame, maxMessage: policy.maxMessage });
  }
}

/**
 * A proxied WebSocket connection: raw bytes both ways with backpressure, frame headers tracked to
 * enforce the size policy and to close cleanly (a 1001/1009 close frame injected at a frame
 * boundary, then FIN). Payloads are never copied or unmasked.
 */
export class WebSocketTunnel {
  readonly route: string;
  readonly #toUpstream: Direction;
  readonly #toClient: Direction;
  readonly #options: TunnelOptions;
  readonly #idleMs: number;
  #lastActivity = performance.now();
  #idleTimer: NodeJS.Timeout | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  #closing = false;
  #open = 2;

  constructor(options: TunnelOptions) {
    this.#options = options;
    this.route = options.route;
    const { client, upstream, policy } = options;
    this.#toUpstream = new Direction(client, upstream, true, policy);
    this.#toClient = new Direction(upstream, client, false, policy);
    this.#idleMs = policy.idleTimeoutMs;
    for (const d of [this.#toUpstream, this.#toClient]) {
      d.src.on('data', (chunk: Buffer) => this.#onData(d, chunk));
      // A peer's FIN is passed on; allowHalfOpen keeps the other way open until that peer ends too.
      d.src.on('end', () => d.dst.end());
      d.dst.on('drain', () => d.src.resume());
      d.src.on('error', () => {});
      d.src.on('close', () => this.#onSocketClose(d));
    }
    client.setNoDelay(true);
    if (this.#idleMs > 0) this.#idleTimer = setTimeout(this.#checkIdle, this.#idleMs);
    if (options.clientHead.length > 0) this.#onData(this.#toUpstream, options.clientHead);
    if (options.upstreamHead.length > 0) this.#onData(this.#toClient, options.upstreamHead);
  }

  /** Graceful shutdown: close frames with 1001 both ways, at frame boundaries. */
  goAway(): void {
    this.#close(CLOSE_GOING_AWAY, 'gateway shutting down', undefined);
  }

  #onData(d: Direction, chunk: Buffer): void {
    this.#lastActivity = performance.now();
    if (d.done) return;
    if (d.src === this.#options.client) this.#options.counters.bytesReceived += chunk.length;
    const held = d.held;
    const data = held === undefined ? chunk : Buffer.concat([held, chunk]);
    const heldLen = held === undefined ? 0 : held.length;
    d.held = undefined;
    const tracker = d.tracker;
    if (d.pending) {
      // Closing: pass the rest of the current frame, then our close frame.
      // (An over-limit header is a boundary too: it is not passed.)
      if (tracker.scan(chunk, true) !== ScanResult.Ok) {
        this.#forward(d, data.subarray(0, heldLen + tracker.offset));
        this.#inject(d);
      } else this.#forward(d, data);
      return;
    }
    const result = tracker.scan(chunk);
    if (result === ScanResult.TooBig) {
      // Everything before the offending frame's header goes through; the header itself never does.
      this.#forward(d, data.subarray(0, heldLen + tracker.offset));
      this.#close(CLOSE_MESSAGE_TOO_BIG, 'message too big', d);
      return;
    }
    const partial = tracker.partialHeader;
    if (partial > 0) d.held = Buffer.from(data.subarray(data.length - partial));
    this.#forward(d, partial > 0 ? data.subarray(0, data.length - partial) : data);
  }

  #forward(d: Direction, bytes: Buffer): void {
    if (bytes.length === 0 || d.dst.destroyed) return;
    if (d.dst === this.#options.client) this.#options.counters.bytesSent += bytes.length;
    if (!d.dst.write(bytes)) d.src.pause();
  }

  /**
   * Gateway-initiated close (idle, size policy, shutdown). `broken` is the direction whose frame
   * broke the policy: its stream stopped right before that frame, so it is at a boundary.
   */
  #close(code: number, reason: string, broken: Direction | undefined): void {
    if (this.#closing) return;
    this.#closing = true;
    clearTimeout(this.#idleTimer);
    this.#closeWith = { code, reason };
    for (const d of [this.#toUpstream, this.#toClient]) {
      // Held header bytes were never forwarded: the stream is at a boundary unless inside a payload.
      const atBoundary = d.tracker.atBoundary || d.tracker.partialHeader > 0;
      d.held = undefined;
      if (d === broken || atBoundary) this.#inject(d);
      else d.pending = true;
    }
    // A stream stuck mid-frame, or a peer that never hangs up, is cut after the grace.
    this.#graceTimer = setTimeout(() => this.destroy(), CLOSE_GRACE_MS);
  }

  #closeWith = { code: CLOSE_GOING_AWAY, reason: '' };

  #inject(d: Direction): void {
    d.pending = false;
    d.done = true;
    d.src.resume();
    if (d.dst.destroyed || d.dst.writableEnded) return;
    const frame = closeFrame(this.#closeWith.code, this.#closeWith.reason, d.masked);
    if (d.dst === this.#options.client) this.#options.counters.bytesSent += frame.length;
    d.dst.end(frame);
  }

  readonly #checkIdle = (): void => {
    const idle = performance.now() - this.#lastActivity;
    if (idle >= this.#idleMs) this.#close(CLOSE_GOING_AWAY, 'idle timeout', undefined);
    else this.#idleTimer = setTimeout(this.#checkIdle, this.#idleMs - idle);
  };

  #onSocketClose(d: Direction): void {
    // One side gone: the other gets what was already written, then FIN; cut it if it lingers.
    if (!d.dst.destroyed) {
      d.dst.end();
      if (this.#graceTimer === undefined) this.#graceTimer = setTimeout(() => this.destroy(), CLOSE_GRACE_MS);
    }
    if (--this.#open === 0) {
      clearTimeout(this.#idleTimer);
      clearTimeout(this.#graceTimer);
      this.#options.onClose(this);
    }
  }

  destroy(): void {
    this.#options.client.destroy();
    this.#options.upstream.destroy();
  }
}

/**
 * The open tunnels of one public listener. Reloads never touch them (they hold no snapshot);
 * the listener's close() sends them 1001 at its drain deadline.
 */
export class TunnelSet {
  readonly #tunnels = new Set<WebSocketTunnel>();

  add(tunnel: WebSocketTunnel): void {
    this.#tunnels.add(tunnel);
  }

  delete(tunnel: WebSocketTunnel): void {
    this.#tunnels.delete(tunnel);
  }

  get size(): number {
    return this.#tunnels.size;
  }

  /** Open tunnels by route name. */
  byRoute(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const t of this.#tunnels) out[t.route] = (out[t.route] ?? 0) + 1;
    return out;
  }

  goAway(): void {
    for (const t of this.#tunnels) t.goAway();
  }
}
