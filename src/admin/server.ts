import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

/** What the admin listener needs to know about the gateway. */
export interface AdminHost {
  /** Ready to take traffic: listeners up and not draining. */
  isReady(): boolean;
  readinessDetail(): Record<string, unknown>;
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': status >= 400 ? 'application/problem+json' : 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}

/** The admin listener: separate port, loopback by default, never reachable from public listeners. */
export class AdminServer {
  readonly server: http.Server;

  constructor(host: AdminHost, logger: Logger) {
    this.server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?', 1)[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return json(res, 405, { type: 'urn:sluice:error:SLUICE_ERR_METHOD_NOT_ALLOWED', title: 'Method Not Allowed', status: 405, code: 'SLUICE_ERR_METHOD_NOT_ALLOWED' });
      }
      if (path === '/healthz') return json(res, 200, { status: 'ok' });
      if (path === '/readyz') {
        const ready = host.isReady();
        return json(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', ...host.readinessDetail() });
      }
      json(res, 404, { type: 'urn:sluice:error:SLUICE_ERR_ROUTE_NOT_FOUND', title: 'Not Found', status: 404, code: 'SLUICE_ERR_ROUTE_NOT_FOUND' });
    });
    this.server.on('clientError', (_err, socket) => socket.destroy());
    logger.debug('admin server created');
  }

  async listen(port: number, hostname: string): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, hostname, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
