import { isIP } from 'node:net';
import type { PoolOptions } from './types.ts';

/** Where and how to connect; one per pool, shared by its connections. */
export interface Target {
  host: string;
  port: number;
  secure: boolean;
  servername: string | undefined;
  rejectUnauthorized: boolean;
  connectTimeoutMs: number;
  keepAliveMs: number;
  /** Last TLS session ticket, offered on the next connect to skip a full handshake. */
  session: Buffer | undefined;
}

export function targetOf(options: PoolOptions): Target {
  const url = options.origin;
  const secure = url.protocol === 'https:';
  if (!secure && url.protocol !== 'http:') throw new TypeError(`unsupported upstream protocol ${url.protocol}`);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return {
    host,
    port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
    secure,
    // SNI must be a host name, never an IP literal.
    servername: options.tls?.servername ?? (isIP(host) === 0 ? host : undefined),
    rejectUnauthorized: options.tls?.rejectUnauthorized ?? true,
    connectTimeoutMs: options.connectTimeoutMs,
    keepAliveMs: options.keepAliveMs,
    session: undefined,
  };
}
