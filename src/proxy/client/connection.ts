import type net from 'node:net';
import type { ErrorCode } from '../../errors/index.ts';
import { BodyWriter, type BodyWriterEvents } from './body-writer.ts';
import type { RawCall } from './raw-call.ts';
import { EOF_COMPLETE, EOF_IDLE, ResponseParser, type ParserEvents } from './response-parser.ts';
import { connectTo, type Target } from './target.ts';
import { isTlsError } from './tls-errors.ts';

/** The pool, as a connection sees it. */
export interface ConnectionOwner {
  onConnected(conn: Connection): void;
  onConnectFailed(conn: Connection, code: ErrorCode, detail: string, cause: unknown): void;
  /** The call finished and the connection can take another. */
  onReleased(conn: Connection): void;
  /** The connection is gone; `retry` is a call to run again on a fresh connection. */
  onClosed(conn: Connection, prevState: number, retry: RawCall | null): void;
}

export const C_CONNECTING = 0;
export const C_READY = 1;
export const C_BUSY = 2;
export const C_CLOSED = 3;

// What the connection's single timer currently means.
const T_NONE = 0;
const T_CONNECT = 1;
const T_RESPONSE = 2;
const T_BODY = 3;
const T_IDLE = 4;

const KEEP_ALIVE_MARGIN_MS = 1000;

/**
 * One keep-alive socket to the target, running one request at a time. Owns the response parser,
 * the body writer and a single timer whose meaning follows the phase (connect, response head,
 * body idle, keep-alive idle); the Timeout object is refreshed rather than re-created while the
 * duration stays the same.
 */
export class Connection implements ParserEvents, BodyWriterEvents {
  state = C_CONNECTING;
  call: RawCall | null = null;
  /** A call that must run on this (fresh) connection once connected: a stale-socket retry. */
  reserved: RawCall | null = null;
  readonly socket: net.Socket;
  /** Responses completed on this socket: > 0 means it is a reused keep-alive connection. */
  private served = 0;
  private requestDone = false;
  private paused = false;
  private bodyIdleMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerMs = 0;
  private timerKind = T_NONE;
  private readonly parser: ResponseParser;
  private readonly writer: BodyWriter;
  private readonly onTimer = (): void => this.timeout();

  constructor(
    private readonly owner: ConnectionOwner,
    private readonly target: Target,
  ) {
    const socket = connectTo(target);
    this.socket = socket;
    this.parser = new ResponseParser(this);
    this.writer = new BodyWriter(socket, this);
    socket.on(target.secure ? 'secureConnect' : 'connect', () => this.connected());
    socket.on('data', (chunk: Buffer) => this.data(chunk));
    socket.on('end', () => this.peerClosed());
    socket.on('close', () => this.peerClosed());
    socket.on('error', (err: Error) => this.socketError(err));
    if (target.secure) socket.on('session', (session: Buffer) => (target.session = session));
    this.arm(T_CONNECT, target.connectTimeoutMs);
  }

  /** Run `call` now. The connection must be ready (connected, no call). */
  assign(call: RawCall): void {
    this.state = C_BUSY;
    this.call = call;
    call.conn = this;
    call.requestSent = true;
    this.requestDone = false;
    this.bodyIdleMs = call.call.bodyIdleTimeoutMs;
    this.timerKind = T_NONE;
    this.socket.ref();
    this.parser.reset(call.call.method === 'HEAD');
    this.writer.start(call.head, call.call.body, call.call.contentLength);
  }

  /**
   * Park as an idle keep-alive connection, closed after keepAliveMs or a second before the
   * upstream's own `Keep-Alive: timeout` (to stay clear of its idle close). Never keeps the process
   * up. Returns false when the upstream's timeout is too short to park at all.
   */
  idle(): boolean {
    const hint = this.parser.keepAliveHintMs;
    let ms = this.target.keepAliveMs;
    if (hint >= 0) {
      const cap = hint - KEEP_ALIVE_MARGIN_MS;
      if (cap <= 0) return false;
      if (ms <= 0 || cap < ms) ms = cap;
    }
    this.state = C_READY;
    this.socket.unref();
    this.arm(T_IDLE, ms);
    return true;
  }

  /** Resume reading after the handler applied backpressure. */
  resumeReading(): void {
    if (!this.paused || this.state !== C_BUSY) return;
    this.paused = false;
    this.socket.resume();
    if (this.call !== null && this.call.responseStarted) this.arm(T_BODY, this.bodyIdleMs);
  }

  /** The caller abandoned `call`: never reuse this socket for anything after it. */
  abandon(call: RawCall): void {
    if (this.reserved === call) this.reserved = null;
    else if (this.call === call) this.close(null);
  }

  /** Fail the running call (if any) with `code` and close. */
  failCall(code: ErrorCode, detail: string, cause?: unknown): void {
    const call = this.call;
    this.close(null);
    if (call !== null) call.fail(code, detail, cause);
  }

  /** Destroy the socket. No handler callbacks from here on; the owner is told synchronously. */
  close(retry: RawCall | null): void {
    const prev = this.state;
    if (prev === C_CLOSED) return;
    this.state = C_CLOSED;
    const call = this.call;
    this.call = null;
    if (call !== null) call.conn = null;
    this.parser.halt();
    this.writer.detach();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerKind = T_NONE;
    this.socket.destroy();
    this.owner.onClosed(this, prev, retry);
  }

  // ── timer ──────────────────────────────────────────────────────────────────────────────────
  private arm(kind: number, ms: number): void {
    if (ms <= 0) {
      this.timerKind = T_NONE;
      return;
    }
    this.timerKind = kind;
    if (this.timer !== null && this.timerMs === ms) {
      this.timer.refresh();
      return;
    }
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(this.onTimer, ms);
    this.timer.unref();
    this.timerMs = ms;
  }

  private timeout(): void {
    const kind = this.timerKind;
    this.timerKind = T_NONE;
    const ms = this.timerMs;
    if (kind === T_CONNECT) this.connectFailed('SLUICE_ERR_UPSTREAM_CONNECT_TIMEOUT', `connect timed out after ${ms} ms`);
    else if (kind === T_RESPONSE) this.failCall('SLUICE_ERR_UPSTREAM_TIMEOUT', `no response head within ${ms} ms`);
    else if (kind === T_BODY) this.failCall('SLUICE_ERR_UPSTREAM_TIMEOUT', `response body idle for ${ms} ms`);
    else if (kind === T_IDLE) this.close(null);
  }

  // ── socket events ──────────────────────────────────────────────────────────────────────────
  private connected(): void {
    if (this.state !== C_CONNECTING) return;
    this.state = C_READY;
    this.timerKind = T_NONE;
    this.owner.onConnected(this);
  }

  private data(chunk: Buffer): void {
    const call = this.call;
    if (call === null) return this.close(null); // bytes with no request in flight
    if (this.timerKind === T_BODY) this.timer!.refresh();
    try {
      this.parser.execute(chunk);
    } catch (err) {
      // A throwing onInformational/onHeaders/onData fails its own call; anything else is a bug.
      if (this.call !== call) throw err;
      this.failCall('SLUICE_ERR_INTERNAL', 'response handler threw', err);
    }
  }

  /** 'end' or 'close' from the peer side. */
  private peerClosed(): void {
    const state = this.state;
    if (state === C_CLOSED) return;
    if (state === C_CONNECTING) return this.connectFailed('SLUICE_ERR_UPSTREAM_CONNECT', 'connection closed during connect');
    if (state !== C_BUSY || this.call === null) return this.close(null);
    const eof = this.parser.finish(); // completes a read-until-close body
    if (eof === EOF_COMPLETE) return;
    if (eof === EOF_IDLE) return this.socketFailed('upstream closed the connection before responding', undefined);
    this.failCall('SLUICE_ERR_UPSTREAM_RESET', 'upstream closed the connection mid-response');
  }

  private socketError(err: NodeJS.ErrnoException): void {
    const state = this.state;
    if (state === C_CLOSED) return;
    const code = err.code ?? 'unknown';
    // TLS 1.3 reports a refused client certificate after the handshake: still a TLS failure.
    if (this.target.secure && isTlsError(code) && (state === C_CONNECTING || (state === C_BUSY && this.call !== null && !this.parser.responseBytesSeen))) {
      if (state === C_CONNECTING) return this.connectFailed('SLUICE_ERR_UPSTREAM_TLS', `upstream TLS handshake failed (${code})`, err);
      return this.failCall('SLUICE_ERR_UPSTREAM_TLS', `upstream TLS handshake failed (${code})`, err);
    }
    if (state === C_CONNECTING) {
      const gwCode = code === 'ETIMEDOUT' ? 'SLUICE_ERR_UPSTREAM_CONNECT_TIMEOUT' : 'SLUICE_ERR_UPSTREAM_CONNECT';
      return this.connectFailed(gwCode, `upstream connect failed (${code})`, err);
    }
    if (state !== C_BUSY || this.call === null) return this.close(null);
    this.socketFailed(`upstream connection error (${code})`, err);
  }

  /**
   * The socket died under a call. A reused keep-alive socket that dies before any response byte,
   * with the body not yet read, most likely lost the race with the upstream's idle close: run the
   * call again, once, on a fresh connection.
   */
  private socketFailed(detail: string, cause: unknown): void {
    const call = this.call!;
    if (this.served > 0 && !call.retried && !this.parser.responseBytesSeen && !this.writer.touched) {
      call.retried = true;
      this.close(call);
      return;
    }
    this.failCall('SLUICE_ERR_UPSTREAM_RESET', detail, cause);
  }

  private connectFailed(code: ErrorCode, detail: string, cause?: unknown): void {
    if (this.state !== C_CONNECTING) return;
    this.state = C_CLOSED;
    if (this.timer !== null) clearTimeout(this.timer);
    this.parser.halt();
    this.socket.destroy();
    this.owner.onConnectFailed(this, code, detail, cause);
  }

  // ── parser events ──────────────────────────────────────────────────────────────────────────
  onInformational(status: number, headers: string[]): void {
    const handler = this.call!.handler;
    if (handler.onInformational !== undefined) handler.onInformational(status, headers);
  }

  onResponseHead(status: number, reason: string, headers: string[]): void {
    const call = this.call!;
    call.responseStarted = true;
    this.arm(T_BODY, this.bodyIdleMs);
    call.handler.onHeaders(status, reason, headers);
  }

  onBody(chunk: Buffer): void {
    const call = this.call!;
    if (!call.handler.onData(chunk) && this.call === call && !this.paused) {
      this.paused = true;
      this.socket.pause();
      this.timerKind = T_NONE; // a slow client is not an idle upstream
    }
  }

  onMessageComplete(trailers: string[], reusable: boolean): void {
    const call = this.call!;
    this.call = null;
    call.conn = null;
    call.done = true;
    this.served++;
    if (reusable && this.requestDone && !call.closeAfter) {
      this.timerKind = T_NONE;
      if (this.paused) {
        this.paused = false;
        this.socket.resume();
      }
      this.state = C_READY;
      this.owner.onReleased(this);
    } else {
      this.close(null);
    }
    call.handler.onEnd(trailers);
  }

  onParseError(detail: string): void {
    this.failCall('SLUICE_ERR_UPSTREAM_BAD_RESPONSE', detail);
  }

  // ── body writer events ─────────────────────────────────────────────────────────────────────
  onRequestWritten(): void {
    if (this.call === null) return;
    this.requestDone = true;
    if (!this.call.responseStarted) this.arm(T_RESPONSE, this.call.call.responseTimeoutMs);
  }

  onBodyAborted(cause: unknown): void {
    if (this.call !== null) this.failCall('SLUICE_ERR_CLIENT_ABORTED', 'request body aborted', cause);
  }

  onBodyLengthMismatch(detail: string): void {
    if (this.call !== null) this.failCall('SLUICE_ERR_INTERNAL', detail);
  }
}
