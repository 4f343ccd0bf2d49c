import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ListenerConfig } from '../config/schema/index.ts';
import { parseSize } from '../config/units.ts';
import type { PipelineHost } from '../runtime/pipeline.ts';
import { PublicListener } from './listener.ts';
import { ConnectionTracker } from './connection-tracker.ts';
import type { CertificateInfo } from './tls-contexts.ts';

/**
 * What a running listener cannot change in place: address and protocol (http ↔ https rebinds), and
 * for https whether ALPN offers h2 (fixed when the TLS server is made).
 */
function bindingOf(config: ListenerConfig): string {
  const alpn = config.protocol === 'https' && config.http2?.enabled === false ? '+no-h2' : '';
  return `${config.protocol ?? 'http'}${alpn}://${config.host ?? '0.0.0.0'}:${config.port}`;
}

/**
 * The public listeners of a gateway. A config change keeps listeners whose binding is unchanged
 * (their open keep-alive connections stay), updates their per-request settings, starts new ones and
 * drains removed ones.
 */
export class ListenerSet {
  readonly #listeners = new Map<string, { listener: PublicListener; tracker: ConnectionTracker; binding: string }>();

  constructor(
    private readonly host: PipelineHost,
    private readonly logger: Logger,
  ) {}

  async sync(configs: readonly ListenerConfig[], drainMs: number): Promise<void> {
    const wanted = new Map(configs.map((c) => [c.name, c]));
    for (const [name, entry] of this.#listeners) {
      const next = wanted.get(name);
      if (next !== undefined && bindingOf(next) === entry.binding) {
        entry.listener.update(next);
        continue;
      }
      this.#listeners.delete(name);
      void entry.listener.close(drainMs).then(() => this.logger.info({ listener: name }, 'listener closed'));
    }
    for (const config of configs) {
      if (this.#listeners.has(config.name)) continue;
      const listener = await PublicListener.start(config, this.host);
      const tracker = new ConnectionTracker(config.name);
      tracker.attach(listener.server, listener.h2?.server);
      this.#listeners.set(config.name, { listener, tracker, binding: bindingOf(config) });
      this.logger.info({ listener: config.name, address: listener.address() }, 'listener started');
    }
  }

  /** Stop accepting everywhere and let in-flight requests finish until the deadline. */
  /** Resolves true when some listener had to cut busy connections at the deadline. */
  async close(deadlineMs: number): Promise<boolean> {
    const results = await Promise.allSettled([...this.#listeners.values()].map((e) => e.listener.close(deadlineMs)));
    this.#listeners.clear();
    return results.some((r) => r.status === 'fulfilled' && r.value);
  }

  addresses(): Map<string, AddressInfo> {
    return new Map([...this.#listeners].map(([name, e]) => [name, e.listener.address()]));
  }

  connections(): Array<{ listener: string; address: string; open: number; total: number; websockets: number; websocketsByRoute: Record<string, number> }> {
    return [...this.#listeners.values()].map((e) => {
      const a = e.listener.address();
      const tunnels = e.listener.tunnels;
      const stats = e.tracker.stats();
      // The tracker sees a tunnel as a connection with no request in flight; it is not idle.
      const idle = Math.max(0, stats.idle - tunnels.size);
      return { ...stats, idle, address: `${a.address}:${a.port}`, websockets: tunnels.size, websocketsByRoute: tunnels.byRoute() };
    });
  }

  /** Certificates served by each https listener, by listener name (http listeners are absent). */
  certificates(): Map<string, CertificateInfo[]> {
    const out = new Map<string, CertificateInfo[]>();
    for (const [name, e] of this.#listeners) {
      const certs = e.listener.certificates();
      if (certs.length > 0) out.set(name, certs);
    }
    return out;
  }

  get size(): number {
    return this.#listeners.size;
  }

  static maxBody(config: ListenerConfig): number {
    return parseSize(config.limits?.maxBodySize ?? '10mb');
  }
}
