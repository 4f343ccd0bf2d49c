import { buildConnector, Pool, type Dispatcher } from 'undici';
import { GatewayError, type ErrorCode } from '../../errors/index.ts';
import { validateCall } from './request-head.ts';
import { tlsContextOptions } from './target.ts';
import { isTlsError } from './tls-errors.ts';
import { latin1, MAX_HEAD_BYTES } from './response-parser.ts';
import type {
  CallHandle,
  PoolFactory,
  PoolOptions,
  PoolStats,
  ResponseHandler,
  TargetPool,
  UpstreamCall,
} from './types.ts';

/**
 * The same TargetPool on undici's Pool, through `dispatch` with the raw (legacy) handler methods:
 * undici 7's core still calls those directly, while the newer controller API goes through an
 * adapter that parses headers into an object we would only flatten again.
 */

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

function flat(raw: Buffer[] | string[] | null): string[] {
  if (raw === null) return [];
  const out = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i]!;
    out[i] = typeof v === 'string' ? v : latin1(v, 0, v.length);
  }
  return out;
}

function classify(err: NodeJS.ErrnoException, sent: boolean, bodyFailed: boolean): ErrorCode {
  const code = err.code ?? '';
  if (bodyFailed) return 'SLUICE_ERR_CLIENT_ABORTED';
  if (isTlsError(code)) return 'SLUICE_ERR_UPSTREAM_TLS';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'SLUICE_ERR_UPSTREAM_CONNECT_TIMEOUT';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'SLUICE_ERR_UPSTREAM_TIMEOUT';
  if (
    err.name === 'HTTPParserError' ||
    code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' ||
    code === 'UND_ERR_HEADERS_OVERFLOW' ||
    code === 'UND_ERR_INFO'
  ) {
    return 'SLUICE_ERR_UPSTREAM_BAD_RESPONSE';
  }
  // No code at all: undici caught an exception thrown by our own handler.
  if (code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH' || code === '') return 'SLUICE_ERR_INTERNAL';
  if (!sent || CONNECT_CODES.has(code) || code === 'UND_ERR_CLOSED' || code === 'UND_ERR_DESTROYED') {
    return 'SLUICE_ERR_UPSTREAM_CONNECT';
  }
  return 'SLUICE_ERR_UPSTREAM_RESET';
}

class UndiciCall implements Dispatcher.DispatchHandler, CallHandle {
  private done = false;
  private sent = false;
  private started = false;
  private abortFn: ((err?: Error) => void) | null = null;
  private resumeFn: (() => void) | null = null;

  constructor(
    private readonly call: UpstreamCall,
    private readonly handler: ResponseHandler,
    private readonly tlsAlerts: ReadonlyMap<number, string>,
  ) {}

  // ── CallHandle ──
  abort(reason?: Error): void {
    if (this.done) return;
    this.done = true;
    // Before onConnect the request is still queued inside undici: it is aborted there on dispatch.
    this.abortFn?.(reason ?? new Error('aborted by caller'));
  }

  resume(): void {
    if (!this.done) this.resumeFn?.();
  }

  // ── undici handler ──
  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    if (this.done) abort(new Error('aborted by caller'));
    else this.sent = true;
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    if (this.done) return false;
    const headers = flat(raw);
    if (status < 200) {
      this.handler.onInformational?.(status, headers);
      return true;
    }
    this.started = true;
    this.resumeFn = resume;
    this.handler.onHeaders(status, statusText, headers);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.done) return false;
    return this.handler.onData(chunk);
  }

  onComplete(trailers: string[] | null): void {
    if (this.done) return;
    this.done = true;
    this.handler.onEnd(flat(trailers));
  }

  onError(err: Error): void {
    const body = this.call.body;
    const bodyFailed = body !== null && (body.errored !== null || (body.destroyed && !body.readableEnded));
    const port = (err as { socket?: { localPort?: number } }).socket?.localPort;
    const alert = port === undefined || this.started ? undefined : this.tlsAlerts.get(port);
    if (alert !== undefined) return this.fail('SLUICE_ERR_UPSTREAM_TLS', `upstream TLS handshake failed (${alert})`, err);
    const code = classify(err as NodeJS.ErrnoException, this.sent, bodyFailed);
    this.fail(code, `upstream request failed (${(err as NodeJS.ErrnoException).code ?? err.name})`, err);
  }

  fail(code: ErrorCode, detail: string, cause: unknown): void {
    if (this.done) return;
    this.done = true;
    const error = new GatewayError(code, cause === undefined ? { detail } : { detail, cause });
    this.handler.onError(error, { requestSent: this.sent, responseStarted: this.started });
  }
}

function failClosed(call: UndiciCall): void {
  call.fail('SLUICE_ERR_UPSTREAM_CONNECT', 'upstream pool closed', undefined);
}

class UndiciTargetPool implements TargetPool {
  private readonly pool: Pool;
  private closed = false;
  private connectsTotal = 0;
  /** TLS alert codes by local port of sockets not yet closed. */
  private readonly tlsAlerts = new Map<number, string>();

  constructor(options: PoolOptions) {
    this.pool = new Pool(options.origin, {
      connections: Math.max(1, options.connections),
      pipelining: 1,
      keepAliveTimeout: options.keepAliveMs,
      keepAliveMaxTimeout: options.keepAliveMs,
      maxHeaderSize: MAX_HEAD_BYTES,
      connect: this.connector(options),
    });
    this.pool.on('connect', () => this.connectsTotal++);
  }

  /**
   * undici's connector with the SNI name fixed per pool, watching TLS sockets for alerts: with TLS 1.3 a target refusing our client
   * certificate says so after the handshake, and undici reports only "other side closed" — the
   * alert seen here (by local port, until the socket has closed) turns that into a TLS error.
   */
  private connector(options: PoolOptions): buildConnector.connector {
    const base = buildConnector({
      timeout: options.connectTimeoutMs,
      rejectUnauthorized: options.tls?.rejectUnauthorized ?? true,
      ...(options.tls?.servername !== undefined ? { servername: options.tls.servername } : {}),
      ...(tlsContextOptions(options.tls) ?? {}),
    });
    if (options.origin.protocol !== 'https:') return base;
    const servername = options.tls?.servername;
    return ({ servername: _fromHostHeader, ...opts }, callback) =>
      // undici would take SNI from the request's Host header: use the configured name, else the target host.
      base(servername === undefined ? opts : { ...opts, servername }, (...args) => {
        const socket = args[1];
        if (socket != null) {
          socket.on('error', (err: NodeJS.ErrnoException) => {
            if (isTlsError(err.code) && socket.localPort !== undefined) this.tlsAlerts.set(socket.localPort, err.code!);
          });
          // After undici's own close handling (which fails the call) has run.
          socket.once('close', () => setImmediate(() => socket.localPort !== undefined && this.tlsAlerts.delete(socket.localPort)));
        }
        callback(...args);
      });
  }

  request(call: UpstreamCall, handler: ResponseHandler): CallHandle {
    const headers = validateCall(call);
    const uc = new UndiciCall(call, handler, this.tlsAlerts);
    if (this.closed) {
      process.nextTick(failClosed, uc);
      return uc;
    }
    if (call.contentLength !== null && call.body !== null) headers.push('content-length', String(call.contentLength));
    this.pool.dispatch(
      {
        method: call.method,
        path: call.path,
        headers,
        body: call.body,
        headersTimeout: call.responseTimeoutMs,
        bodyTimeout: call.bodyIdleTimeoutMs,
      },
      uc,
    );
    return uc;
  }

  stats(): PoolStats {
    const s = this.pool.stats;
    return {
      open: s.connected,
      idle: s.free,
      inflight: s.running,
      queued: s.pending,
      connectsTotal: this.connectsTotal,
      // undici retries nothing on its own here: a failed request is reported as is.
      retriesTotal: 0,
    };
  }

  close(): Promise<void> {
    this.closed = true;
    return this.pool.close();
  }

  destroy(): void {
    this.closed = true;
    this.pool.destroy().catch(() => {});
  }
}

export const createUndiciPool: PoolFactory = (options) => new UndiciTargetPool(options);
