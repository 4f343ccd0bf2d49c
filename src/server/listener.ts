import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListenerConfig } from '../config/schema/index.ts';
import { parseDuration, parseSize } from '../config/units.ts';
import { handleRequest, type ListenerRuntime, type PipelineHost } from '../runtime/pipeline.ts';
import { handleClientError } from './client-error.ts';

/** A public HTTP listener: node:http server with protective limits, feeding the pipeline. */
export class PublicListener {
  readonly runtime: ListenerRuntime;
  readonly server: http.Server;

  private constructor(
    readonly config: ListenerConfig,
    host: PipelineHost,
  ) {
    const timeouts = config.timeouts ?? {};
    const headersTimeout = parseDuration(timeouts.headers ?? '20s');
    this.runtime = {
      name: config.name,
      scheme: 'http',
      port: config.port,
      maxBodySize: parseSize(config.limits?.maxBodySize ?? '10mb'),
      trustedPeers: new Set(config.trustForwardedFrom ?? []),
    };
    this.server = http.createServer({
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
    });
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => handleRequest(host, this.runtime, req, res);
    this.server.on('request', onRequest);
    // Answer 100-continue only after routing, auth and size checks pass (see forward.ts).
    this.server.on('checkContinue', onRequest);
    this.server.on('clientError', handleClientError);
  }

  /** Apply a reloaded config whose binding did not change: limits and trust apply to new requests. */
  update(config: ListenerConfig): void {
    this.runtime.maxBodySize = parseSize(config.limits?.maxBodySize ?? '10mb');
    this.runtime.trustedPeers = new Set(config.trustForwardedFrom ?? []);
    const timeouts = config.timeouts ?? {};
    this.server.headersTimeout = parseDuration(timeouts.headers ?? '20s');
    this.server.requestTimeout = parseDuration(timeouts.request ?? '5m');
    this.server.keepAliveTimeout = parseDuration(timeouts.keepAlive ?? '5s');
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
   * deadline, then cut what is left.
   */
  /** Resolves true when the deadline cut connections that were still busy. */
  async close(deadlineMs: number): Promise<boolean> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    let forced = false;
    // Busy keep-alive connections get "Connection: close" on their current response.
    const timer = setTimeout(() => {
      forced = true;
      this.server.closeAllConnections();
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
