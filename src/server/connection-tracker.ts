import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2Server, Http2ServerRequest } from 'node:http2';
import type { Server, Socket } from 'node:net';

export interface ConnectionStats {
  listener: string;
  /** Client connections open now. */
  open: number;
  /** Connections accepted since attach(). */
  total: number;
  /** Open connections with no HTTP request in flight (keep-alive connections waiting). */
  idle: number;
}

/** What requests are counted on: the request's socket (HTTP/1.1) or HTTP/2 session. */
type Tracked = EventEmitter & Record<symbol, number | undefined>;

/**
 * Counts a listener's client connections: 'connection' and socket 'close' for open/total, and per
 * socket the requests in flight ('request' → response 'close') for idle. The listeners are created once
 * per tracker and the in-flight count lives on the socket under a private symbol, so the per-request
 * cost is one counter and one listener registration, no closure.
 *
 * Counted from the raw TCP socket (open) and from the request's socket (busy); for HTTPS these are the
 * TCP socket and its TLS wrapper, one-to-one. Upgraded (WebSocket) connections count as idle once
 * their upgrade request is answered; connections accepted before attach() are not seen.
 * An HTTP/2 connection is one connection (its socket reaches the listening server's 'connection')
 * and busy while any of its streams is open: its requests count on the session.
 */
const SOCKET = Symbol('sluice.requestSocket');

export class ConnectionTracker {
  #open = 0;
  #total = 0;
  #busy = 0;
  readonly #inFlight = Symbol('sluice.inFlight');

  constructor(readonly name: string) {}

  attach(server: Server, h2?: Http2Server): void {
    const tracker = this;
    const key = this.#inFlight;
    const onSocketClose = (): void => {
      tracker.#open--;
    };
    // A socket that dies mid-request is no longer busy, whichever 'close' comes first.
    const onBusySocketClose = function (this: Tracked): void {
      if (this[key]! > 0) tracker.#busy--;
      this[key] = 0;
    };
    const onResponseClose = function (this: ServerResponse): void {
      // The socket as it was at request time: req.socket is null once a consumer released it.
      const socket = (this as ServerResponse & { [SOCKET]?: Tracked })[SOCKET];
      if (socket === undefined) return;
      const n = socket[key];
      if (n === undefined || n <= 0) return;
      socket[key] = n - 1;
      if (n === 1) tracker.#busy--;
    };
    server.on('connection', (socket: Socket) => {
      tracker.#open++;
      tracker.#total++;
      socket.on('close', onSocketClose);
    });
    const count = (socket: Tracked, res: ServerResponse): void => {
      const n = socket[key];
      if (n === undefined) socket.on('close', onBusySocketClose);
      socket[key] = (n ?? 0) + 1;
      if (!(n! > 0)) tracker.#busy++;
      (res as ServerResponse & { [SOCKET]?: Tracked })[SOCKET] = socket;
      res.on('close', onResponseClose);
    };
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => count(req.socket as unknown as Tracked, res);
    // First in line so the count is up before the pipeline can answer; net.Server never emits these.
    server.prependListener('request', onRequest);
    // Only where someone handles it: adding the first listener would stop node's automatic 100-continue.
    if (server.listenerCount('checkContinue') > 0) server.prependListener('checkContinue', onRequest);
    if (h2 === undefined) return;
    // The session, not req.socket: on HTTP/2 that is a per-stream proxy whose 'close' is the stream's.
    const onH2Request = (req: Http2ServerRequest, res: unknown): void => count(req.stream.session as unknown as Tracked, res as ServerResponse);
    h2.prependListener('request', onH2Request);
    h2.prependListener('checkContinue', onH2Request);
  }

  stats(): ConnectionStats {
    return { listener: this.name, open: this.#open, total: this.#total, idle: Math.max(0, this.#open - this.#busy) };
  }
}
