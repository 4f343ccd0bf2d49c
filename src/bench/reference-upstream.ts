/**
 * The upstream the load test proxies to: node:http on 127.0.0.1 with fixed bodies, so the only
 * variable between targets is the hop under test. Same endpoints as ../shared/bench's nginx upstream.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LARGE_BODY_BYTES, SMALL_BODY_BYTES } from './scenarios.ts';

export interface UpstreamStats {
  /** TCP connections accepted so far: shows whether a gateway pools its upstream connections. */
  connections: number;
  requests: number;
}

export interface ReferenceUpstream {
  url: string;
  stats(): UpstreamStats;
  close(): Promise<void>;
}

const SMALL = Buffer.alloc(SMALL_BODY_BYTES, 0x73); // 's'
const LARGE = Buffer.alloc(LARGE_BODY_BYTES, 0x6c); // 'l'
const NOT_FOUND = Buffer.from('not found\n');

function reply(res: http.ServerResponse, status: number, body: Buffer): void {
  res.writeHead(status, ['Content-Type', 'application/octet-stream', 'Content-Length', String(body.length)]);
  res.end(body);
}

function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
  const path = req.url ?? '/';
  if (req.method === 'GET' && path === '/small') return reply(res, 200, SMALL);
  if (req.method === 'GET' && path === '/16k') return reply(res, 200, LARGE);
  if (req.method === 'POST' && path === '/post') {
    // Drain the body before answering, as a real service would.
    req.on('data', () => {});
    req.on('end', () => reply(res, 200, SMALL));
    return;
  }
  req.resume();
  reply(res, 404, NOT_FOUND);
}

export async function startReferenceUpstream(opts: { port?: number } = {}): Promise<ReferenceUpstream> {
  const stats: UpstreamStats = { connections: 0, requests: 0 };
  const server = http.createServer((req, res) => {
    stats.requests += 1;
    handle(req, res);
  });
  // Long keep-alive so pooled gateway connections survive the pauses between scenarios.
  server.keepAliveTimeout = 65_000;
  server.on('connection', (sock) => {
    stats.connections += 1;
    sock.setNoDelay(true);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => ({ ...stats }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // idle keep-alive sockets would otherwise hold close() open
      }),
  };
}
