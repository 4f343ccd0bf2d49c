import net, { isIP } from 'node:net';
import tls from 'node:tls';
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

/** Open a socket to the target: TLS (ALPN http/1.1, SNI, resumed session) for https. */
export function connectTo(target: Target): net.Socket {
  const socket = target.secure
    ? tls.connect({
        host: target.host,
        port: target.port,
        servername: target.servername,
        rejectUnauthorized: target.rejectUnauthorized,
        ALPNProtocols: ['http/1.1'],
        session: target.session,
      })
    : net.connect({ host: target.host, port: target.port });
  socket.setNoDelay(true);
  return socket;
}
