import net, { isIP } from 'node:net';
import tls from 'node:tls';
import type { PoolOptions, UpstreamTlsOptions } from './types.ts';

/** Where and how to connect; one per pool, shared by its connections. */
export interface Target {
  host: string;
  port: number;
  secure: boolean;
  servername: string | undefined;
  rejectUnauthorized: boolean;
  /** CA, client certificate and version floor, as one context shared by the pool's connections. */
  secureContext: tls.SecureContext | undefined;
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
    secureContext: secure ? secureContextOf(options.tls) : undefined,
    connectTimeoutMs: options.connectTimeoutMs,
    keepAliveMs: options.keepAliveMs,
    session: undefined,
  };
}

/** The TLS options for https targets that need their own context (undefined: node's defaults). */
export function tlsContextOptions(t: UpstreamTlsOptions | undefined): tls.SecureContextOptions | undefined {
  if (t === undefined || (t.ca === undefined && t.cert === undefined && t.minVersion === undefined)) return undefined;
  return {
    ...(t.ca === undefined ? {} : { ca: t.ca }),
    ...(t.cert === undefined || t.key === undefined ? {} : { cert: t.cert, key: t.key }),
    minVersion: t.minVersion ?? 'TLSv1.2',
  };
}

// Built once per pool: parsing a CA bundle per connect would cost every new connection.
function secureContextOf(t: UpstreamTlsOptions | undefined): tls.SecureContext | undefined {
  const options = tlsContextOptions(t);
  return options === undefined ? undefined : tls.createSecureContext(options);
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
        secureContext: target.secureContext,
        session: target.session,
      })
    : net.connect({ host: target.host, port: target.port });
  socket.setNoDelay(true);
  return socket;
}
