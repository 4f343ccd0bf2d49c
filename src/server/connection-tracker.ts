import type { IncomingMessage, ServerResponse } from 'node:http';
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

type Tracked = Socket & Record<symbol, number | undefined>;

/**
 * Counts a listener's client connections: 'connection' and socket 'close' for open/total, and per
 * socket the requests in flight ('request' → response 'close') for idle. The listeners are created once
 * per tracker and the in-flight count lives on the socket under a private symbol, so the per-request
 * cost is one counter and one listener registration, no closure.
 *
 * Counted from the raw TCP socket (open) and from the request's socket (busy); for HTTPS these are the
 * TCP socket and its TLS wrapper, one-to-one. Upgraded (WebSocket) connections count as idle once
 * their upgrade request is answered; connections accepted before attach() are not seen.
 */
const SOCKET = Symbol('sluice.requestSocket');

export class ConnectionTracker {
  #open = 0;
  #total = 0;
  #busy = 0;
  readonly #inFlight = Symbol('sluice.inFlight');

  constructor(readonly name: string) {}

  attach(server: Server): void {
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
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      const socket = req.socket as Tracked;
      const n = socket[key];
      if (n === undefined) socket.on('close', onBusySocketClose);
      socket[key] = (n ?? 0) + 1;
      if (!(n! > 0)) tracker.#busy++;
      (res as ServerResponse & { [SOCKET]?: Tracked })[SOCKET] = socket;
      res.on('close', onResponseClose);
    };
    // First in line so the count is up before the pipeline can answer; net.Server never emits these.
    server.prependListener('request', onRequest);
    // Only where someone handles it: adding the first listener would stop node's automatic 100-continue.
    if (server.listenerCount('checkContinue') > 0) server.prependListener('checkContinue', onRequest);
  }

  stats(): ConnectionStats {
    return { listener: this.name, open: this.#open, total: this.#total, idle: Math.max(0, this.#open - this.#busy) };
  }
}
