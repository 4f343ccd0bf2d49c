import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The built-in demo upstream of the default config: answers every request with a JSON echo of
 * what it received (method, path, headers, body size), so `npm start` works with no other service.
 */
export async function startEchoUpstream(port = 0, host = '127.0.0.1'): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      const body = JSON.stringify(
        { echo: true, method: req.method, path: req.url, headers: req.headers, bodyBytes: bytes },
        null,
        2,
      );
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
