import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ListenerConfig } from '../config/schema/index.ts';
import { parseDuration, parseSize } from '../config/units.ts';
import { TunnelSet } from '../proxy/websocket-tunnel.ts';
import { handleRequest, type ListenerRuntime, type PipelineHost } from '../runtime/pipeline.ts';
import { handleUpgrade } from '../runtime/upgrade.ts';
import { handleClientError } from './client-error.ts';
import { compileClientCertHeaders } from './client-cert.ts';
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
      }) as unknown as http.Server;
      // Failed handshakes (wrong version, no shared cipher, timeout, plain HTTP on the TLS port)
      // concern only that client.
      this.server.on('tlsClientError', (_err: Error, socket: { destroy(): void }) => socket.destroy());
    } else {
      this.server = http.createServer(options);
    }
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => handleRequest(host, this.runtime, req, res);
    this.server.on('request', onRequest);
    // Answer 100-continue only after routing, auth and size checks pass (see forward.ts).
    this.server.on('checkContinue', onRequest);
    this.server.on('clientError', handleClientError);
    this.server.on('upgrade', (req: http.IncomingMessage, socket, head: Buffer) => handleUpgrade(host, this.runtime, this.tunnels, req, socket, head));
  }

  /** Apply a reloaded config whose binding did not change: limits and trust apply to new requests. */
  update(config: ListenerConfig): void {
    this.runtime.maxBodySize = parseSize(config.limits?.maxBodySize ?? '10mb');
    this.runtime.trustedPeers = new Set(config.trustForwardedFrom ?? []);
    this.runtime.clientAuth = config.tls?.clientAuth !== undefined;
    this.runtime.clientCertHeaders = compileClientCertHeaders(config.tls?.clientAuth);
    const timeouts = config.timeouts ?? {};
    this.server.headersTimeout = parseDuration(timeouts.headers ?? '20s');
    this.server.requestTimeout = parseDuration(timeouts.request ?? '5m');
    this.server.keepAliveTimeout = parseDuration(timeouts.keepAlive ?? '5s');
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
    let forced = false;
    // Busy keep-alive connections get "Connection: close" on their current response.
    const timer = setTimeout(() => {
      forced = true;
      this.server.closeAllConnections();
      this.tunnels.goAway();
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
