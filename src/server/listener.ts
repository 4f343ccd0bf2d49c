import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ListenerConfig } from '../config/schema/index.ts';
import { parseDuration, parseSize } from '../config/units.ts';
import { TunnelSet } from '../proxy/websocket-tunnel.ts';
import { handleRequest, type ListenerRuntime, type PipelineHost } from '../runtime/pipeline.ts';
import { handleUpgrade } from '../runtime/upgrade.ts';
import { handleClientError } from './client-error.ts';
import { compileClientCertHeaders } from './client-cert.ts';
import { H2Front, h2Enabled } from './h2-front.ts';
import { sniffPreface } from './h2-sniff.ts';
import { SniContexts, type CertificateInfo } from './tls-contexts.ts';

const DEFAULT_HANDSHAKE_TIMEOUT = '10s';

/** node keeps the handshake timeout under a private symbol; a reload sets it there when it exists. */
function setHandshakeTimeout(server: http.Server, ms: number): void {
  const key = Object.getOwnPropertySymbols(server).find((s) => s.description === 'handshake-timeout');
  if (key !== undefined) (server as unknown as Record<symbol, number>)[key] = ms;
}

/**
 * A public listener: node:http (or node:https with SNI) server with protective limits, feeding the
 * pipeline.
 */
export class PublicListener {
  readonly runtime: ListenerRuntime;
  readonly server: http.Server;
  /** Open WebSocket tunnels: reloads leave them alone, close() ends them at its deadline. */
  readonly tunnels = new TunnelSet();
  /**
   * The HTTP/2 side, fed connections by `server`. Always there on http listeners (a reload may turn
   * h2c on or off in place); on https only when ALPN offers h2 (a change there rebinds).
   */
  readonly h2: H2Front | undefined;
  /** Cleartext only: sniff for the h2c preface (reload may turn it off; TLS rebinds instead). */
  #sniff: boolean;
  #sniffTimeoutMs: number;
  /** Certificates by SNI name; undefined for plain http. Replaced on reload (new handshakes only). */
  #tls: SniContexts | undefined;

  private constructor(
    readonly config: ListenerConfig,
    host: PipelineHost,
  ) {
    const timeouts = config.timeouts ?? {};
    const headersTimeout = parseDuration(timeouts.headers ?? '20s');
    this.runtime = {
      name: config.name,
      scheme: config.protocol === 'https' ? 'https' : 'http',
      port: config.port,
      maxBodySize: parseSize(config.limits?.maxBodySize ?? '10mb'),
      trustedPeers: new Set(config.trustForwardedFrom ?? []),
      clientAuth: config.tls?.clientAuth !== undefined,
      clientCertHeaders: compileClientCertHeaders(config.tls?.clientAuth),
    };
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => handleRequest(host, this.runtime, req, res);
    const h2 = h2Enabled(config);
    this.h2 = h2 || config.protocol !== 'https' ? new H2Front(config, onRequest as unknown as ConstructorParameters<typeof H2Front>[1]) : undefined;
    this.#sniff = h2;
    this.#sniffTimeoutMs = headersTimeout;
    const options: http.ServerOptions = {
      maxHeaderSize: parseSize(config.limits?.maxHeaderSize ?? '16kb'),
      headersTimeout,
      requestTimeout: parseDuration(timeouts.request ?? '5m'),
      keepAliveTimeout: parseDuration(timeouts.keepAlive ?? '5s'),
      // node checks header/request deadlines on this interval: keep it fine enough that a
      // trickling client is cut close to its deadline.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4))),
      // Host is checked by the pipeline so the rejection is a problem+json like every other.
      requireHostHeader: false,
      noDelay: true,
    };
    if (config.protocol === 'https' && config.tls !== undefined) {
      const contexts = new SniContexts(config.tls);
      this.#tls = contexts;
      this.server = https.createServer({
        ...options,
        ...contexts.defaultOptions(),
        handshakeTimeout: parseDuration(config.tls.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT),
        // Read at each handshake, so a reload's contexts serve new connections at once.
        SNICallback: (servername, cb) => cb(null, this.#tls!.select(servername)),
        ...(h2 ? { ALPNProtocols: ['h2', 'http/1.1'] } : {}),
      }) as unknown as http.Server;
      if (this.h2 !== undefined) this.#dispatchTls(this.h2);
      // Failed handshakes (wrong version, no shared cipher, timeout, plain HTTP on the TLS port)
      // concern only that client.
      this.server.on('tlsClientError', (_err: Error, socket: { destroy(): void }) => socket.destroy());
    } else {
      this.server = http.createServer(options);
      if (this.h2 !== undefined) this.#dispatchCleartext(this.h2);
    }
    this.server.on('request', onRequest);
    // Answer 100-continue only after routing, auth and size checks pass (see forward.ts).
    this.server.on('checkContinue', onRequest);
    this.server.on('clientError', handleClientError);
    this.server.on('upgrade', (req: http.IncomingMessage, socket, head: Buffer) => handleUpgrade(host, this.runtime, this.tunnels, req, socket, head));
  }

  /**
   * h2c with prior knowledge beside HTTP/1.1: every accepted connection's first bytes decide which
   * server gets it (node:http's own 'connection' handling is taken over, not copied).
   */
  #dispatchCleartext(h2: H2Front): void {
    const http1 = this.server.listeners('connection') as Array<(socket: Socket) => void>;
    this.server.removeAllListeners('connection');
    this.server.on('connection', (socket: Socket) => {
      if (!this.#sniff) return this.#toHttp1(http1, socket);
      sniffPreface(socket, this.#sniffTimeoutMs, (kind) => {
        if (kind === 'h2') h2.accept(socket);
        else {
          this.#toHttp1(http1, socket);
          // The sniff paused the socket; node:http's parser reads the bytes put back first.
          socket.resume();
        }
      });
    });
  }

  #toHttp1(http1: Array<(socket: Socket) => void>, socket: Socket): void {
    for (const listener of http1) listener.call(this.server, socket);
  }

  /** HTTPS: the ALPN result of the handshake decides (no "h2" offered → HTTP/1.1). */
  #dispatchTls(h2: H2Front): void {
    const http1 = this.server.listeners('secureConnection') as Array<(socket: TLSSocket) => void>;
    this.server.removeAllListeners('secureConnection');
    this.server.on('secureConnection', (socket: TLSSocket) => {
      if (socket.alpnProtocol === 'h2') h2.accept(socket);
      else for (const listener of http1) listener.call(this.server, socket);
    });
  }

  /** Apply a reloaded config whose binding did not change: limits and trust apply to new requests. */
  update(config: ListenerConfig): void {
    this.#sniff = h2Enabled(config);
    this.h2?.update(config);
    this.runtime.maxBodySize = parseSize(config.limits?.maxBodySize ?? '10mb');
    this.runtime.trustedPeers = new Set(config.trustForwardedFrom ?? []);
    this.runtime.clientAuth = config.tls?.clientAuth !== undefined;
    this.runtime.clientCertHeaders = compileClientCertHeaders(config.tls?.clientAuth);
    const timeouts = config.timeouts ?? {};
    this.server.headersTimeout = parseDuration(timeouts.headers ?? '20s');
    this.server.requestTimeout = parseDuration(timeouts.request ?? '5m');
    this.server.keepAliveTimeout = parseDuration(timeouts.keepAlive ?? '5s');
    this.#sniffTimeoutMs = this.server.headersTimeout;
    // Same binding means same protocol (listener-set rebinds on a protocol change).
    if (this.#tls !== undefined && config.tls !== undefined) {
      const contexts = new SniContexts(config.tls);
      // The server's own context serves clients without SNI; established connections keep theirs.
      // It also carries the client-certificate policy (mTLS mode, CA, CRL) for new handshakes.
      (this.server as unknown as https.Server).setSecureContext(contexts.defaultOptions());
      this.#tls = contexts;
      setHandshakeTimeout(this.server, parseDuration(config.tls.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT));
    }
  }

  /** The certificates this listener serves (empty for plain http). */
  certificates(): CertificateInfo[] {
    return this.#tls?.certificates() ?? [];
  }

  static async start(config: ListenerConfig, host: PipelineHost): Promise<PublicListener> {
    const listener = new PublicListener(config, host);
    await new Promise<void>((resolve, reject) => {
      listener.server.once('error', reject);
      listener.server.listen(config.port, config.host ?? '0.0.0.0', () => {
        listener.server.off('error', reject);
        resolve();
      });
    });
    listener.runtime.port = listener.address().port;
    return listener;
  }

  address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  /**
   * Stop accepting, close idle keep-alive connections, let in-flight requests finish until the
   * deadline, then cut what is left. WebSocket tunnels keep working until the deadline, then get a
   * 1001 (Going Away) close frame both ways. Resolves true when the deadline cut busy connections.
   */
  async close(deadlineMs: number): Promise<boolean> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    // HTTP/2: GOAWAY, open streams may finish, the session closes when the last one does.
    this.h2?.goAway();
    let forced = false;
    // Busy keep-alive connections get "Connection: close" on their current response.
    const timer = setTimeout(() => {
      forced = true;
      this.server.closeAllConnections();
      this.tunnels.goAway();
      this.h2?.destroyAll();
    }, deadlineMs);
    const idleSweep = setInterval(() => this.server.closeIdleConnections(), 100);
    try {
      await closed;
    } finally {
      clearTimeout(timer);
      clearInterval(idleSweep);
    }
    return forced;
  }
}
