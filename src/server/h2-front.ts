import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { ListenerConfig } from '../config/schema/index.ts';
import { parseDuration, parseSize } from '../config/units.ts';
import { H2Response } from './h2-response.ts';

export type H2RequestHandler = (req: http2.Http2ServerRequest, res: H2Response) => void;

const DEFAULT_MAX_STREAMS = 100;
const DEFAULT_WINDOW = 65_535;
const DEFAULT_IDLE = '1m';
/** Header fields per request, as node:http's default maxHeadersCount. */
const MAX_HEADER_PAIRS = 2000;
/** SETTINGS_MAX_HEADER_LIST_SIZE is a 32-bit value. */
const MAX_SETTING = 2 ** 32 - 1;

/** Open streams per session, for the idle timeout. */
const OPEN = Symbol('sluice.h2OpenStreams');
type Session = http2.ServerHttp2Session & { [OPEN]: number };

export function h2Enabled(config: ListenerConfig): boolean {
  return config.http2?.enabled ?? true;
}

function settingsOf(config: ListenerConfig): http2.Settings {
  const h2 = config.http2 ?? {};
  const headerList = parseSize(h2.maxHeaderListSize ?? config.limits?.maxHeaderSize ?? '16kb');
  return {
    maxConcurrentStreams: h2.maxConcurrentStreams ?? DEFAULT_MAX_STREAMS,
    initialWindowSize: h2.initialWindowSize ?? DEFAULT_WINDOW,
    maxHeaderListSize: Math.min(headerList, MAX_SETTING),
    // Server push is never used by a proxy.
    enablePush: false,
  };
}

/**
 * The HTTP/2 side of a public listener: a node:http2 server that never listens itself. The
 * listener's own http/https server accepts every connection and hands over those that speak h2
 * (ALPN "h2", or the h2c preface), so accept, TLS, SNI and connection counting stay in one place.
 * Tracks its sessions for idle timeout, reload and drain (GOAWAY).
 */
export class H2Front {
  readonly server: http2.Http2Server;
  readonly #sessions = new Set<Session>();
  #settings: http2.Settings;
  #idleMs: number;
  /** timeouts.request: time a client has to send a whole request (0 = no limit), as on HTTP/1.1. */
  #requestMs: number;
  #draining = false;

  constructor(config: ListenerConfig, onRequest: H2RequestHandler) {
    this.#settings = settingsOf(config);
    this.#idleMs = parseDuration(config.http2?.idleTimeout ?? DEFAULT_IDLE);
    this.#requestMs = parseDuration(config.timeouts?.request ?? '5m');
    this.server = http2.createServer({
      settings: this.#settings,
      // node's default (128 fields) is far below node:http's 2000 and counts every cookie crumb a
      // browser splits off; the byte limit (maxHeaderListSize) is what bounds memory.
      maxHeaderListPairs: MAX_HEADER_PAIRS,
      Http2ServerResponse: H2Response as unknown as typeof http2.Http2ServerResponse,
    });
    this.server.on('request', onRequest as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void);
    // Answer 100-continue only after routing, auth and size checks pass (forward.ts), as on HTTP/1.1.
    this.server.on('checkContinue', onRequest as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void);
    this.server.on('session', (session: http2.ServerHttp2Session) => this.#onSession(session as Session));
    // A protocol error concerns that client only; node destroys the session itself.
    this.server.on('sessionError', (_error: Error, session: http2.ServerHttp2Session) => session.destroy());
  }

  /** Serve `socket` (h2c after its preface was seen, or TLS with ALPN "h2") as an HTTP/2 session. */
  accept(socket: Socket): void {
    this.server.emit('connection', socket);
  }

  #onSession(session: Session): void {
    session[OPEN] = 0;
    this.#sessions.add(session);
    session.on('close', () => this.#sessions.delete(session));
    session.on('error', () => {});
    session.on('stream', (stream: http2.ServerHttp2Stream) => {
      session[OPEN]++;
      stream.on('error', () => {});
      stream.once('close', () => session[OPEN]--);
      if (!stream.endAfterHeaders && this.#requestMs > 0) this.#limitRequest(stream, this.#requestMs);
    });
    // Fires after idleMs without any frame; only a session with no open stream is idle (a quiet
    // long-poll or event stream is not).
    session.setTimeout(this.#idleMs);
    session.on('timeout', () => {
      if (session[OPEN] === 0) session.close();
    });
    // Accepted while draining (its preface arrived late): refuse new streams at once.
    if (this.#draining) session.close();
  }

  /**
   * A request body still not fully received after `ms` (a trickling client) cancels its stream,
   * as node:http's requestTimeout cuts an HTTP/1.1 connection. The response side is not limited.
   */
  #limitRequest(stream: http2.ServerHttp2Stream, ms: number): void {
    const timer = setTimeout(() => {
      if (!stream.readableEnded) stream.close(http2.constants.NGHTTP2_CANCEL);
    }, ms);
    const clear = (): void => clearTimeout(timer);
    stream.once('end', clear);
    stream.once('close', clear);
  }

  /** Apply reloaded settings: to new sessions, and (SETTINGS frame) to open ones. */
  update(config: ListenerConfig): void {
    this.#settings = settingsOf(config);
    this.#idleMs = parseDuration(config.http2?.idleTimeout ?? DEFAULT_IDLE);
    this.#requestMs = parseDuration(config.timeouts?.request ?? '5m');
    this.server.updateSettings(this.#settings);
    for (const session of this.#sessions) {
      if (session.closed || session.destroyed) continue;
      session.setTimeout(this.#idleMs);
      try {
        session.settings(this.#settings);
      } catch {
        // Too many unacknowledged SETTINGS (a client not answering): it keeps the old ones.
      }
    }
  }

  /** Stop accepting streams: GOAWAY to every session; open streams may finish. */
  goAway(): void {
    this.#draining = true;
    for (const session of this.#sessions) session.close();
  }

  /** Cut every session still open (drain deadline). Returns how many had open streams. */
  destroyAll(): number {
    let busy = 0;
    for (const session of this.#sessions) {
      if (session[OPEN] > 0) busy++;
      session.destroy();
    }
    return busy;
  }

  get sessions(): number {
    return this.#sessions.size;
  }
}
