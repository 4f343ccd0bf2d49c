import { createHash } from 'node:crypto';
import type { PoolFactory, PoolOptions, TargetPool, UpstreamTlsOptions } from '../proxy/client/types.ts';

/** TLS part of a pool's identity: a changed CA, client certificate or key makes a new pool. */
function tlsKey(t: UpstreamTlsOptions): string {
  const pem = t.ca === undefined && t.cert === undefined && t.key === undefined
    ? ''
    : createHash('sha256').update(`${t.ca ?? ''}\0${t.cert ?? ''}\0${t.key ?? ''}`).digest('base64url');
  return `${t.rejectUnauthorized ?? true}:${t.servername ?? ''}:${t.minVersion ?? ''}:${pem}`;
}

interface Entry {
  pool: TargetPool;
  refs: number;
}

/**
 * Connection pools shared across config snapshots: a target whose pool settings did not change
 * keeps its warm connections through a reload (no reconnect storm). Each snapshot acquires the
 * pools it uses and releases them when it is retired; a pool no snapshot uses is closed gracefully.
 */
export class PoolCache {
  readonly #entries = new Map<string, Entry>();

  /** `factories.native` is the default client; others are chosen per upstream (`pool.client`). */
  constructor(private readonly factories: Readonly<Record<string, PoolFactory>>) {}

  static keyOf(options: PoolOptions, client: string): string {
    const tls = options.tls === undefined ? '' : tlsKey(options.tls);
    return `${client}|${options.origin.origin}|${options.connections}|${options.keepAliveMs}|${options.connectTimeoutMs}|${options.pingIntervalMs ?? 0}|${tls}`;
  }

  acquire(options: PoolOptions, client = 'native'): { key: string; pool: TargetPool } {
    const key = PoolCache.keyOf(options, client);
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      const factory = this.factories[client] ?? this.factories.native!;
      entry = { pool: factory(options), refs: 0 };
      this.#entries.set(key, entry);
    }
    entry.refs++;
    return { key, pool: entry.pool };
  }

  release(key: string): Promise<void> {
    const entry = this.#entries.get(key);
    if (entry === undefined) return Promise.resolve();
    if (--entry.refs > 0) return Promise.resolve();
    this.#entries.delete(key);
    return entry.pool.close();
  }

  entries(): IterableIterator<[string, Entry]> {
    return this.#entries.entries();
  }

  destroyAll(): void {
    for (const entry of this.#entries.values()) entry.pool.destroy();
    this.#entries.clear();
  }
}
