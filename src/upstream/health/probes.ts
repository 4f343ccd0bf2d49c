import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import type { HealthCheckConfig } from '../../config/schema/index.ts';
import type { UpstreamTlsOptions } from '../../proxy/client/types.ts';

/** One check of one target: resolves with null when it passed, or why it failed (never rejects). */
export type Probe = (signal: AbortSignal) => Promise<string | null>;

const BODY_LIMIT = 64 * 1024;

/** `[200, "300-399"]` → a test compiled once. */
export function statusMatcher(expected: HealthCheckConfig['expectedStatuses']): (status: number) => boolean {
  const ranges = (expected ?? ['200-399']).map((e) => {
    if (typeof e === 'number') return [e, e] as const;
    const [from, to] = e.split('-').map(Number) as [number, number];
    return [from, to] as const;
  });
  return (status) => ranges.some(([from, to]) => status >= from && status <= to);
}

export function bodyMatcher(body: HealthCheckConfig['body']): ((text: string) => boolean) | undefined {
  if (body === undefined || (body.contains === undefined && body.regex === undefined)) return undefined;
  const regex = body.regex === undefined ? undefined : new RegExp(body.regex);
  return (text) => (body.contains === undefined || text.includes(body.contains)) && (regex === undefined || regex.test(text));
}

/** Build the probe for a target from its upstream's `healthCheck` (once per config apply). */
export function createProbe(config: HealthCheckConfig, url: URL, tls: UpstreamTlsOptions | undefined): Probe {
  const type = config.type;
  if (type === 'tcp') return tcpProbe(url);
  if (type === 'grpc') return grpcProbe(config.service ?? '', url, tls);
  return httpProbe(config, url, tls);
}

function defaultPort(url: URL): number {
  return url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

function tcpProbe(url: URL): Probe {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = defaultPort(url);
  return (signal) =>
    new Promise((resolve) => {
      const socket = net.connect({ host, port, signal });
      socket.once('connect', () => {
        socket.destroy();
        resolve(null);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(signal.aborted ? 'timeout' : `connect: ${error.code ?? error.message}`));
    });
}

function httpProbe(config: HealthCheckConfig, url: URL, tls: UpstreamTlsOptions | undefined): Probe {
  const secure = url.protocol === 'https:';
  const okStatus = statusMatcher(config.expectedStatuses);
  const okBody = bodyMatcher(config.body);
  const basePath = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  const headers: Record<string, string> = { 'user-agent': 'sluice-health-check', ...config.headers, host: config.host ?? url.host, connection: 'close' };
  const options: https.RequestOptions = {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: defaultPort(url),
    method: config.method ?? 'GET',
    path: basePath + (config.path ?? '/'),
    headers,
    // A fresh connection per check: a check must not reuse (or disturb) the traffic pool's sockets.
    agent: false,
    ...(secure ? { ...tls, servername: tls?.servername ?? (net.isIP(url.hostname) ? undefined : url.hostname) } : {}),
  };
  const request = secure ? https.request : http.request;
  return (signal) =>
    new Promise((resolve) => {
      const req = request({ ...options, signal }, (res) => {
        const status = res.statusCode ?? 0;
        if (!okStatus(status)) {
          res.destroy();
          return resolve(`status ${status}`);
        }
        if (okBody === undefined) {
          res.resume();
          return resolve(null);
        }
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (text.length < BODY_LIMIT) text += chunk;
        });
        res.on('end', () => resolve(okBody(text.slice(0, BODY_LIMIT)) ? null : 'body did not match'));
        res.on('error', () => resolve(signal.aborted ? 'timeout' : 'body read failed'));
      });
      req.on('error', (error: NodeJS.ErrnoException) => resolve(signal.aborted ? 'timeout' : `request: ${error.code ?? error.message}`));
      req.end();
    });
}

/** grpc.health.v1.HealthCheckRequest { string service = 1; } */
function encodeHealthRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  const message = name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]);
  const frame = Buffer.alloc(5);
  frame.writeUInt32BE(message.length, 1);
  return Buffer.concat([frame, message]);
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

/** HealthCheckResponse.status (field 1, varint) from one length-prefixed message; 0 = UNKNOWN when absent. */
export function decodeServingStatus(data: Buffer): number | undefined {
  if (data.length < 5 || data[0] !== 0) return undefined;
  const length = data.readUInt32BE(1);
  const message = data.subarray(5, 5 + length);
  let i = 0;
  while (i < message.length) {
    const tag = message[i++]!;
    if (tag === 0x08) {
      let value = 0;
      let shift = 0;
      while (i < message.length) {
        const b = message[i++]!;
        value |= (b & 0x7f) << shift;
        if ((b & 0x80) === 0) return value;
        shift += 7;
      }
      return undefined;
    }
    return undefined; // no other fields are defined
  }
  return 0;
}

const SERVING = 1;

function grpcProbe(service: string, url: URL, tls: UpstreamTlsOptions | undefined): Probe {
  const secure = url.protocol === 'https:';
  const origin = `${secure ? 'https' : 'http'}://${url.host}`;
  const body = encodeHealthRequest(service);
  return (signal) =>
    new Promise((resolve) => {
      let done = false;
      const finish = (reason: string | null) => {
        if (done) return;
        done = true;
        session.destroy();
        resolve(reason);
      };
      const session = http2.connect(origin, secure ? { ...tls } : {});
      session.on('error', (error: NodeJS.ErrnoException) => finish(signal.aborted ? 'timeout' : `connect: ${error.code ?? error.message}`));
      signal.addEventListener('abort', () => finish('timeout'), { once: true });
      const stream = session.request({
        ':method': 'POST',
        ':path': '/grpc.health.v1.Health/Check',
        'content-type': 'application/grpc',
        te: 'trailers',
        'user-agent': 'sluice-health-check',
      });
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      // A refused connection fails the stream first: let the session's error (the cause) win.
      stream.on('error', (error: NodeJS.ErrnoException) => setImmediate(() => finish(signal.aborted ? 'timeout' : `stream: ${error.code ?? error.message}`)));
      const grpcStatus = (h: http2.IncomingHttpHeaders) => h['grpc-status'];
      let status: string | string[] | undefined;
      stream.on('response', (headers) => (status = grpcStatus(headers)));
      stream.on('trailers', (trailers) => (status = grpcStatus(trailers) ?? status));
      stream.on('end', () => {
        if (status !== '0') return finish(`grpc-status ${String(status ?? 'missing')}`);
        const serving = decodeServingStatus(Buffer.concat(chunks));
        finish(serving === SERVING ? null : `serving status ${serving ?? 'unreadable'}`);
      });
      stream.end(body);
    });
}
