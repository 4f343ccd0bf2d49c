import http2, { type ClientHttp2Session, type SecureClientSessionOptions } from 'node:http2';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { ErrorCode } from '../../errors/index.ts';
import { H2Call, h2RequestHeaders, type H2CallOwner } from './h2-call.ts';
import { tlsContextOptions } from './target.ts';
import type { CallHandle, PoolFactory, PoolOptions, PoolStats, ResponseHandler, TargetPool, UpstreamCall } from './types.ts';

/**
 * HTTP/2 pool to one target (h2c prior knowledge for http:, TLS with ALPN h2 for https:).
 *
 * Calls are multiplexed on one session; another session is opened only when every open one is at
 * the peer's SETTINGS_MAX_CONCURRENT_STREAMS, up to `connections` sessions; beyond that calls wait
 * in a FIFO queue. A session that received GOAWAY or closed takes no new stream (the next call
 * opens a new one); a session without streams is closed after `keepAliveMs`. With
 * `pingIntervalMs`, each session is PINGed and closed when a PING goes unanswered for a whole
 * interval, so calls fail fast instead of waiting for their timeouts on a dead peer.
 */

/** Streams assumed per session until the peer's SETTINGS arrive. */
const INITIAL_STREAMS = 100;

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

class Session {
  ready = false;
  /** GOAWAY received or closing: no new streams. */
  dead = false;
  readonly calls = new Set<H2Call>();
  idleTimer: NodeJS.Timeout | undefined;
  connectError: Error | undefined;
  timedOut = false;
  pingPending = false;
  constructor(readonly h2: ClientHttp2Session) {}

  get capacity(): number {
    const max = this.ready ? (this.h2.remoteSettings.maxConcurrentStreams ?? INITIAL_STREAMS) : INITIAL_STREAMS;
    return max - this.calls.size;
  }
}

class H2Pool implements TargetPool, H2CallOwner {
  private readonly sessions: Session[] = [];
  /** Every session not yet closed, retired ones included (close() waits for them). */
  private readonly all = new Set<Session>();
  private readonly queue: H2Call[] = [];
  private readonly bySession = new Map<H2Call, Session>();
  private readonly url: string;
  private readonly scheme: 'http' | 'https';
  private readonly authority: string;
  private readonly connectOptions: SecureClientSessionOptions;
  private closed = false;
  private connectsTotal = 0;
  private closeWaiters: (() => void)[] = [];

  constructor(private readonly options: PoolOptions) {
    const origin = options.origin;
    this.scheme = origin.protocol === 'https:' ? 'https' : 'http';
    this.url = `${this.scheme}://${origin.host}`;
    this.authority = origin.host;
    const host = origin.hostname.startsWith('[') ? origin.hostname.slice(1, -1) : origin.hostname;
    const tlsOptions = tlsContextOptions(options.tls);
    const secureContext = this.scheme === 'https' && tlsOptions !== undefined ? tls.createSecureContext(tlsOptions) : undefined;
    this.connectOptions =
      this.scheme === 'https'
        ? {
            rejectUnauthorized: options.tls?.rejectUnauthorized ?? true,
            ALPNProtocols: ['h2'],
            // CA, client certificate and version floor: one context for all the pool's sessions.
            ...(secureContext === undefined ? {} : { secureContext }),
            ...(options.tls?.servername !== undefined ? { servername: options.tls.servername } : isIP(host) === 0 ? { servername: host } : {}),
          }
        : {};
  }

  request(call: UpstreamCall, handler: ResponseHandler): CallHandle {
    const h2call = new H2Call(call, handler, h2RequestHeaders(call, this.scheme, this.authority), this);
    if (this.closed) {
      process.nextTick(() => h2call.fail('SLUICE_ERR_UPSTREAM_CONNECT', 'upstream pool closed', undefined, false));
      return h2call;
    }
    this.dispatch(h2call);
    return h2call;
  }

  private dispatch(call: H2Call): void {
    const session = this.pick();
    if (session === undefined) {
      this.queue.push(call);
      return;
    }
    this.assign(session, call);
  }

  private pick(): Session | undefined {
    for (const s of this.sessions) if (!s.dead && s.capacity > 0) return s;
    if (this.sessions.length >= Math.max(1, this.options.connections)) return undefined;
    return this.open();
  }

  private assign(session: Session, call: H2Call): void {
    if (session.idleTimer !== undefined) {
      clearTimeout(session.idleTimer);
      session.idleTimer = undefined;
    }
    session.calls.add(call);
    this.bySession.set(call, session);
    // Calls wait for the connection so a refused connect is known to have sent nothing.
    if (session.ready) call.start(session.h2);
  }

  private open(): Session {
    this.connectsTotal++;
    const h2 = http2.connect(this.url, this.connectOptions);
    const session = new Session(h2);
    this.sessions.push(session);
    this.all.add(session);
    const timer = setTimeout(() => {
      session.timedOut = true;
      h2.destroy();
    }, this.options.connectTimeoutMs);
    timer.unref();
    h2.once('connect', () => {
      clearTimeout(timer);
      session.ready = true;
      for (const call of [...session.calls]) call.start(h2);
    });
    h2.on('error', (error: Error) => {
      if (!session.ready) session.connectError = error;
    });
    h2.once('goaway', (_code: number, lastStreamId: number) => {
      this.retire(session);
      // Streams above lastStreamId were never processed (RFC 9113 §6.8): fail them now as not
      // sent instead of waiting for a response that will not come.
      for (const call of [...session.calls]) {
        if (streamId(call) > lastStreamId) call.fail('SLUICE_ERR_UPSTREAM_RESET', 'upstream GOAWAY: stream not processed', undefined, false);
      }
    });
    const ping = this.options.pingIntervalMs ?? 0;
    const pinger = ping > 0 ? setInterval(() => this.ping(session), ping) : undefined;
    pinger?.unref();
    h2.once('close', () => {
      clearTimeout(timer);
      if (pinger !== undefined) clearInterval(pinger);
      this.all.delete(session);
      this.retire(session);
      if (!session.ready) this.connectFailed(session);
      if (this.closed && this.all.size === 0) this.notifyClosed();
    });
    // The session must not keep the process alive by itself.
    h2.unref();
    return session;
  }

  /** Keepalive tick: a PING still unanswered since the last tick means the peer is gone. */
  private ping(session: Session): void {
    if (!session.ready || session.h2.destroyed) return;
    if (session.pingPending) {
      session.h2.destroy(new Error('upstream did not answer an HTTP/2 PING'));
      return;
    }
    session.pingPending = true;
    session.h2.ping((error) => {
      if (error === null) session.pingPending = false;
    });
  }

  private connectFailed(session: Session): void {
    const code: ErrorCode = session.timedOut ? 'SLUICE_ERR_UPSTREAM_CONNECT_TIMEOUT' : 'SLUICE_ERR_UPSTREAM_CONNECT';
    const cause = session.connectError;
    const errno = (cause as NodeJS.ErrnoException | undefined)?.code;
    const detail = session.timedOut
      ? `no connection within ${this.options.connectTimeoutMs} ms`
      : `connect failed (${errno !== undefined && CONNECT_CODES.has(errno) ? errno : (cause?.name ?? 'closed')})`;
    for (const call of [...session.calls]) call.fail(code, detail, cause, false);
  }

  /** No new streams on this session; it closes once its streams are done. */
  private retire(session: Session): void {
    if (session.dead) return;
    session.dead = true;
    const i = this.sessions.indexOf(session);
    if (i >= 0) this.sessions.splice(i, 1);
    if (!session.h2.closed && !session.h2.destroyed) session.h2.close();
    this.pump();
  }

  finished(call: H2Call): void {
    const session = this.bySession.get(call);
    if (session === undefined) {
      const i = this.queue.indexOf(call);
      if (i >= 0) this.queue.splice(i, 1);
      return;
    }
    this.bySession.delete(call);
    session.calls.delete(call);
    if (session.calls.size === 0 && !session.dead) {
      if (this.closed) this.retire(session);
      else {
        session.idleTimer = setTimeout(() => this.retire(session), this.options.keepAliveMs);
        session.idleTimer.unref();
      }
    }
    this.pump();
  }

  private pump(): void {
    while (this.queue.length > 0 && !this.closed) {
      const session = this.pick();
      if (session === undefined) return;
      this.assign(session, this.queue.shift()!);
    }
  }

  stats(): PoolStats {
    let inflight = 0;
    let idle = 0;
    for (const s of this.sessions) {
      inflight += s.calls.size;
      if (s.calls.size === 0) idle++;
    }
    return { open: this.sessions.length, idle, inflight, queued: this.queue.length, connectsTotal: this.connectsTotal, retriesTotal: 0 };
  }

  close(): Promise<void> {
    this.closed = true;
    for (const call of this.queue.splice(0)) call.fail('SLUICE_ERR_UPSTREAM_CONNECT', 'upstream pool closed', undefined, false);
    for (const s of [...this.sessions]) if (s.calls.size === 0) this.retire(s);
    if (this.all.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  private notifyClosed(): void {
    for (const resolve of this.closeWaiters.splice(0)) resolve();
  }

  destroy(): void {
    this.closed = true;
    for (const call of this.queue.splice(0)) call.fail('SLUICE_ERR_UPSTREAM_CONNECT', 'upstream pool destroyed', undefined, false);
    for (const s of [...this.all]) {
      s.dead = true;
      s.h2.destroy();
    }
    this.sessions.length = 0;
    this.all.clear();
    this.notifyClosed();
  }
}

function streamId(call: H2Call): number {
  return call.streamId ?? 0;
}

export const createH2Pool: PoolFactory = (options) => new H2Pool(options);
