// Test helper: a real HTTP server on 127.0.0.1:0 that records requests and answers from a script.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** Body, gunzipped when content-encoding is gzip. */
  body: string;
  rawBytes: number;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface TestServer {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

/** `respond` gets the request and its 0-based index; defaults to 200 with an empty body. */
export async function startServer(respond: (req: Recorded, i: number) => Reply = () => ({})): Promise<TestServer> {
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const gz = req.headers['content-encoding'] === 'gzip';
      const rec: Recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: (gz ? gunzipSync(raw) : raw).toString('utf8'),
        rawBytes: raw.length,
      };
      const reply = respond(rec, requests.length);
      requests.push(rec);
      res.writeHead(reply.status ?? 200, reply.headers ?? {});
      res.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
