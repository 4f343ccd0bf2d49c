/**
 * Shared test harness for the upstream client (no tests of its own; named *.test.ts so the build
 * leaves it out of dist). Real servers on 127.0.0.1:0 only.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { GatewayError } from '../../errors/index.ts';
import type { FailureInfo, PoolFactory, PoolOptions, TargetPool, UpstreamCall } from './types.ts';

export interface Result {
  status: number;
  statusText: string;
  headers: string[];
  body: Buffer;
  trailers: string[];
  informational: { status: number; headers: string[] }[];
  error: GatewayError | undefined;
  info: FailureInfo | undefined;
  /** Callbacks seen after the outcome (must stay 0). */
  late: number;
}

export function get(path = '/', extra: Partial<UpstreamCall> = {}): UpstreamCall {
  return {
    method: 'GET',
    path,
    headers: ['Host', 'upstream.test'],
    body: null,
    contentLength: null,
    responseTimeoutMs: 5000,
    bodyIdleTimeoutMs: 5000,
    ...extra,
  };
}

/** Run one call to completion (onEnd or onError) and collect everything the handler saw. */
export function send(pool: TargetPool, call: UpstreamCall): Promise<Result> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const r: Result = {
      status: 0, statusText: '', headers: [], body: Buffer.alloc(0), trailers: [], informational: [],
      error: undefined, info: undefined, late: 0,
    };
    let finished = false;
    const finish = (): void => {
      if (finished) r.late++;
      finished = true;
      r.body = Buffer.concat(chunks);
      resolve(r);
    };
    pool.request(call, {
      onInformational: (status, headers) => r.informational.push({ status, headers }),
      onHeaders(status, statusText, headers) {
        if (finished) r.late++;
        Object.assign(r, { status, statusText, headers });
      },
      onData(chunk) {
        if (finished) r.late++;
        chunks.push(Buffer.from(chunk));
        return true;
      },
      onEnd(trailers) {
        r.trailers = trailers;
        finish();
      },
      onError(error, info) {
        Object.assign(r, { error, info });
        finish();
      },
    });
  });
}

export function header(headers: string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === name) return headers[i + 1];
  return undefined;
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const nextLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Servers and pools opened by a test, closed by `cleanup()` (call it in `afterEach`). */
export class Fixture {
  private servers: net.Server[] = [];
  private pools: TargetPool[] = [];
  readonly sockets = new Set<net.Socket>();

  constructor(readonly factory: PoolFactory) {}

  async listen<S extends net.Server>(server: S): Promise<number> {
    this.servers.push(server);
    server.on('connection', (s: net.Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as net.AddressInfo).port;
  }

  /** A node:http upstream. */
  async http(handler: http.RequestListener): Promise<number> {
    return this.listen(http.createServer({ keepAliveTimeout: 5000 }, handler));
  }

  /** A raw TCP upstream: `onRequest` gets each request head (requests without body) and the socket. */
  async raw(onRequest: (socket: net.Socket, head: string, index: number) => void): Promise<number> {
    const server = net.createServer((socket) => {
      let buffered = '';
      let index = 0;
      socket.on('error', () => {});
      socket.on('data', (d) => {
        buffered += d.toString('latin1');
        for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
          const head = buffered.slice(0, end + 4);
          buffered = buffered.slice(end + 4);
          onRequest(socket, head, index++);
        }
      });
    });
    return this.listen(server);
  }

  /** A raw upstream that answers every request with `bytes`. */
  async canned(bytes: string | Buffer, close = false): Promise<number> {
    return this.raw((socket) => {
      socket.write(bytes);
      if (close) socket.end();
    });
  }

  pool(port: number, options: Partial<PoolOptions> = {}, scheme = 'http'): TargetPool {
    const pool = this.factory({
      origin: new URL(`${scheme}://127.0.0.1:${port}`),
      connections: 4,
      keepAliveMs: 5000,
      connectTimeoutMs: 2000,
      ...options,
    });
    this.pools.push(pool);
    return pool;
  }

  async cleanup(): Promise<void> {
    for (const pool of this.pools) pool.destroy();
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(r))));
    this.servers = [];
    this.pools = [];
  }
}

/** A request body of `size` bytes made on demand, counting how much was pulled. */
export class CountingBody extends Readable {
  produced = 0;
  constructor(private readonly size: number, private readonly chunk = 64 * 1024) {
    super({ highWaterMark: 64 * 1024 });
  }
  override _read(): void {
    const n = Math.min(this.chunk, this.size - this.produced);
    if (n <= 0) return void this.push(null);
    this.produced += n;
    this.push(Buffer.alloc(n, this.produced & 0xff));
  }
}

/** A self-signed certificate for 127.0.0.1 / localhost, or undefined when openssl is missing. */
export function selfSignedCert(): { key: Buffer; cert: Buffer } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cert-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ], { stdio: 'ignore', timeout: 10_000 });
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
