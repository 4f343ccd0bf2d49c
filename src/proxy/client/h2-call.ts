import { STATUS_CODES } from 'node:http';
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { GatewayError, type ErrorCode } from '../../errors/index.ts';
import { validateCall } from './request-head.ts';
import type { CallHandle, ResponseHandler, UpstreamCall } from './types.ts';

/**
 * One UpstreamCall as one HTTP/2 stream: header mapping, body with backpressure, response and
 * trailers flattened for the ResponseHandler, timeouts and failure classification.
 */

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_NO_ERROR } = http2.constants;

/** Connection-specific headers HTTP/2 forbids (RFC 9113 §8.2.2); Host becomes :authority. */
const DROP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'http2-settings']);

/** Build the HTTP/2 request header block. Throws a 400 GatewayError for invalid names/values. */
export function h2RequestHeaders(call: UpstreamCall, scheme: 'http' | 'https', defaultAuthority: string): OutgoingHttpHeaders {
  const flat = validateCall(call);
  const out: OutgoingHttpHeaders = { ':method': call.method, ':path': call.path, ':scheme': scheme, ':authority': defaultAuthority };
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!.toLowerCase();
    const value = flat[i + 1]!;
    if (name === 'host') {
      out[':authority'] = value;
      continue;
    }
    if (DROP.has(name)) continue;
    // The only TE value HTTP/2 allows; gRPC servers require it.
    if (name === 'te' && value.trim().toLowerCase() !== 'trailers') continue;
    const prior = out[name];
    if (prior === undefined) out[name] = value;
    else if (name === 'cookie') out[name] = `${prior as string}; ${value}`;
    else out[name] = Array.isArray(prior) ? [...prior, value] : [prior as string, value];
  }
  if (call.contentLength !== null && call.body !== null) out['content-length'] = String(call.contentLength);
  return out;
}

/** Response/trailer header object → flat [name, value, …] without pseudo-headers. */
export function flatHeaders(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* : */) continue;
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, String(value));
  }
  return out;
}

export interface H2CallOwner {
  /** The call's stream is over (or never started): give its slot back. */
  finished(call: H2Call): void;
}

export class H2Call implements CallHandle {
  done = false;
  private stream: ClientHttp2Stream | undefined;
  private started = false;
  private ended = false;
  private trailers: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private paused = false;

  constructor(
    readonly call: UpstreamCall,
    private readonly handler: ResponseHandler,
    private readonly headers: OutgoingHttpHeaders,
    private readonly owner: H2CallOwner,
  ) {}

  get streamId(): number | undefined {
    return this.stream?.id;
  }

  // ── CallHandle ──
  abort(_reason?: Error): void {
    this.end();
  }

  /** End the call once: RST_STREAM(CANCEL) stops the upstream's work on this call only; the session stays. False when it had ended already. */
  private end(): boolean {
    if (this.done) return false;
    this.done = true;
    this.clearTimer();
    if (this.stream !== undefined && !this.stream.closed) this.stream.close(NGHTTP2_CANCEL);
    this.call.body?.unpipe();
    this.owner.finished(this);
    return true;
  }

  resume(): void {
    if (this.done || !this.paused) return;
    this.paused = false;
    this.arm(this.call.bodyIdleTimeoutMs, 'SLUICE_ERR_UPSTREAM_TIMEOUT', 'response body idle');
    this.stream?.resume();
  }

  /** Open the stream on a connected session. */
  start(session: ClientHttp2Session): void {
    if (this.done) return;
    const body = this.call.body;
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(this.headers, { endStream: body === null });
    } catch (error) {
      return this.fail('SLUICE_ERR_UPSTREAM_CONNECT', 'could not open an HTTP/2 stream', error, false);
    }
    this.stream = stream;
    stream.on('headers', this.onInfo);
    stream.once('response', this.onResponse);
    stream.on('data', this.onData);
    stream.once('trailers', this.onTrailers);
    stream.once('end', this.onEnd);
    stream.on('error', () => {}); // classified on 'close' from rstCode
    stream.once('close', this.onClose);
    if (body !== null) {
      body.once('error', this.onBodyError);
      body.pipe(stream);
    }
    this.arm(this.call.responseTimeoutMs, 'SLUICE_ERR_UPSTREAM_TIMEOUT', 'no response head');
  }

  /** Fail without a stream: connect failure, pool closed, session gone before start. */
  fail(code: ErrorCode, detail: string, cause: unknown, requestSent: boolean): void {
    if (!this.end()) return;
    const error = new GatewayError(code, cause === undefined ? { detail } : { detail, cause });
    this.handler.onError(error, { requestSent, responseStarted: this.started });
  }

  private readonly onInfo = (headers: IncomingHttpHeaders): void => {
    const status = Number(headers[':status']);
    if (!this.done && status >= 100 && status < 200 && status !== 101) this.handler.onInformational?.(status, flatHeaders(headers));
  };

  private readonly onResponse = (headers: IncomingHttpHeaders): void => {
    if (this.done) return;
    this.started = true;
    this.arm(this.call.bodyIdleTimeoutMs, 'SLUICE_ERR_UPSTREAM_TIMEOUT', 'response body idle');
    const status = Number(headers[':status']);
    this.handler.onHeaders(status, STATUS_CODES[status] ?? '', flatHeaders(headers));
  };

  private readonly onData = (chunk: Buffer): void => {
    if (this.done) return;
    this.timer?.refresh();
    if (this.handler.onData(chunk)) return;
    // Backpressure: stop reading; HTTP/2 flow control then stops the upstream sending.
    this.paused = true;
    this.clearTimer();
    this.stream!.pause();
  };

  private readonly onTrailers = (headers: IncomingHttpHeaders): void => {
    this.trailers = flatHeaders(headers);
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    if (this.done || !this.started) return;
    this.done = true;
    this.clearTimer();
    // The response is complete; a request body still streaming is of no use any more.
    this.call.body?.unpipe();
    this.owner.finished(this);
    this.handler.onEnd(this.trailers);
  };

  private readonly onClose = (): void => {
    if (this.done) return;
    const rst = this.stream!.rstCode ?? NGHTTP2_NO_ERROR;
    // REFUSED_STREAM: the upstream did no work on it (safe to send elsewhere).
    const refused = rst === NGHTTP2_REFUSED_STREAM;
    const detail = this.ended ? 'stream closed without a response' : `upstream stream closed (RST_STREAM ${rst})`;
    this.fail('SLUICE_ERR_UPSTREAM_RESET', detail, undefined, !refused);
  };

  private readonly onBodyError = (error: Error): void => {
    // A body transform (gRPC-Web text decoding) may reject the client's bytes: keep its verdict.
    if (error instanceof GatewayError) this.fail(error.code, error.detail ?? error.message, error, true);
    else this.fail('SLUICE_ERR_CLIENT_ABORTED', 'request body failed', error, true);
  };

  private arm(ms: number, code: ErrorCode, what: string): void {
    this.clearTimer();
    if (ms <= 0) return;
    this.timer = setTimeout(() => this.fail(code, `${what} within ${ms} ms`, undefined, true), ms);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
