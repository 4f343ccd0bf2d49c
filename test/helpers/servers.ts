import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createGateway, type Gateway, type PluginDefinition } from '../../src/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { Writable } from 'node:stream';

export interface TestServer {
  url: string;
  port: number;
  server: http.Server;
  close(): Promise<void>;
}

/** A real node:http upstream on 127.0.0.1:0. */
export async function startUpstream(handler: http.RequestListener): Promise<TestServer> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** An upstream that answers every request with a JSON echo (method, url, headers, body). */
export function startEchoUpstream(extra: Record<string, string> = {}): Promise<TestServer> {
  return startUpstream((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify({
        method: req.method,
        url: req.url,
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...extra });
      res.end(body);
    });
  });
}

/** A raw TCP upstream that writes whatever the test wants (malformed responses). */
export async function startRawUpstream(onConnection: (socket: net.Socket) => void): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onConnection(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface TestGateway {
  gateway: Gateway;
  url: string;
  port: number;
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Start a real gateway on 127.0.0.1:0 with the given config (admin off unless configured). */
export async function startGateway(config: Record<string, unknown>, plugins: PluginDefinition[] = []): Promise<TestGateway> {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const full = {
    listeners: [{ name: 'public', host: '127.0.0.1', port: 0 }],
    admin: { enabled: false },
    ...config,
  };
  const accessLogSink = { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) };
  const gateway = await createGateway(full, { logger: createLogger({ level: 'info', destination: sink }), accessLogSink, plugins });
  await gateway.start();
  const address = [...gateway.addresses().values()][0]!;
  return {
    gateway,
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    logs,
    close: () => gateway.stop({ deadlineMs: 1000 }),
  };
}

/** Send raw bytes and collect the whole reply until the server closes or `waitMs` passes. */
export function rawRequest(port: number, bytes: string | Buffer, waitMs = 1500): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('data', (c) => (data += c.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
    socket.on('error', () => {});
    socket.write(bytes);
  });
}

export interface SimpleResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

/** node:http client request (own agent-less connection) returning status, headers and body. */
export function request(url: string, options: http.RequestOptions & { body?: string | Buffer } = {}): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent: false, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** GET `url` and tell whether the response body arrived complete or the connection was cut. */
export function responseOutcome(url: string): Promise<'complete' | 'error'> {
  return new Promise((resolve) => {
    http
      .get(url, { agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve('complete'));
        res.on('error', () => resolve('error'));
        res.on('aborted', () => resolve('error'));
      })
      .on('error', () => resolve('error'));
  });
}
