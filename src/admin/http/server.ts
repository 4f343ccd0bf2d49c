import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { AdminAuthenticator, type AdminAuthConfig } from './auth.ts';
import { DOCS_PAGE_CSP, DOCS_PAGE_HTML } from './docs-page.ts';
import { buildOpenApi, type OpenApiInfo } from './openapi.ts';
import { handleAdminRequest, type PipelineState } from './pipeline.ts';
import { RateLimiter } from './rate-limit.ts';
import { RouteTable, type PublicRoute } from './routes.ts';
import type { AdminRoute, AuditSink } from './types.ts';

export type { AdminAuthConfig } from './auth.ts';
export type { PublicRoute } from './routes.ts';

export interface AdminServerOptions {
  routes: AdminRoute[];
  /** The admin config's auth part (`tokens`, `jwt`); other admin keys are ignored. */
  auth: AdminAuthConfig;
  rateLimitPerMinute: number;
  audit: AuditSink;
  logger: Logger;
  /** Extra unauthenticated GET endpoints served as is (/healthz, /readyz, /metrics): no rate limit, no audit. */
  publicRoutes?: PublicRoute[];
  /** Largest accepted request body; default 1 MiB. */
  bodyLimitBytes?: number;
  /** OpenAPI `info`; default { title: 'Sluice admin API', version: '1.0.0' }. */
  info?: OpenApiInfo;
}

const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** In-flight admin calls get this long after close() before their sockets are cut. */
const CLOSE_GRACE_MS = 5_000;

export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === 'localhost' || bare === '::1') return true;
  const v4 = bare.startsWith('::ffff:') ? bare.slice(7) : bare;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/** The built-in endpoints: the OpenAPI document (viewer) and its rendering (public shell, no data). */
function builtinRoutes(document: () => unknown): AdminRoute[] {
  return [
    {
      method: 'GET', path: '/admin/openapi.json', role: 'viewer', tags: ['meta'],
      summary: 'This OpenAPI 3.1 document',
      handler: () => ({ body: document() }),
    },
    {
      method: 'GET', path: '/admin/docs', role: 'viewer', public: true, tags: ['meta'],
      summary: 'Human-readable API reference (HTML; loads /admin/openapi.json with a token you enter)',
      handler: () => ({ body: DOCS_PAGE_HTML, contentType: 'text/html; charset=utf-8', headers: { 'content-security-policy': DOCS_PAGE_CSP } }),
    },
  ];
}

/** The admin listener: routing, auth, RBAC, rate limit, validation, problem errors and audit for admin routes. */
export class AdminHttpServer {
  readonly server: Server;
  private state: PipelineState;
  private readonly options: AdminServerOptions;
  private openApi: unknown = {};
  private boundHost: string | undefined;

  constructor(options: AdminServerOptions) {
    this.options = options;
    this.state = {
      table: new RouteTable([]),
      auth: new AdminAuthenticator(options.auth),
      limiter: new RateLimiter(options.rateLimitPerMinute),
      audit: options.audit,
      logger: options.logger,
      bodyLimit: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT,
    };
    this.setRoutes(options.routes);
    // Short receive timeouts: admin requests are small, and slow-drip clients must not hold sockets.
    this.server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req: IncomingMessage, res: ServerResponse) => void handleAdminRequest(this.state, req, res));
    // Bad framing or oversized headers: answer 400 and drop the socket instead of leaving it hanging.
    this.server.on('clientError', (_error, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
  }

  /** Rebuilds the route table, validators and OpenAPI document once; requests then use the new set. */
  setRoutes(routes: AdminRoute[]): void {
    const taken = new Set(routes.map((r) => `${r.method} ${r.path}`));
    const all = [...routes, ...builtinRoutes(() => this.openApi).filter((r) => !taken.has(`${r.method} ${r.path}`))];
    const table = new RouteTable(all, this.options.publicRoutes);
    this.openApi = buildOpenApi(all, this.options.info ?? { title: 'Sluice admin API', version: '1.0.0' });
    this.state = { ...this.state, table };
  }

  /**
   * New credentials (config reload). Throws, keeping the old ones, when they are unusable or would
   * leave a non-loopback listener without auth.
   */
  setAuth(auth: AdminAuthConfig): void {
    const next = new AdminAuthenticator(auth);
    if (!next.configured && this.boundHost !== undefined && !isLoopbackHost(this.boundHost)) {
      throw new Error(`admin API on ${this.boundHost} cannot drop all tokens and jwt: it would be open to the network`);
    }
    if (!next.configured && this.state.auth.configured) this.options.logger.warn('admin API auth removed: every local caller is now admin');
    this.state = { ...this.state, auth: next };
  }

  async listen(port: number, host: string): Promise<AddressInfo> {
    if (!this.state.auth.configured) {
      if (!isLoopbackHost(host)) {
        throw new Error(`refusing to start the admin API on non-loopback host ${host} without admin.tokens or admin.jwt`);
      }
      this.options.logger.warn({ host }, 'admin API has no tokens or jwt: every local caller is admin (loopback only)');
    }
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.boundHost = host;
    return this.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const force = setTimeout(() => this.server.closeAllConnections(), CLOSE_GRACE_MS);
    force.unref();
    await closed;
    clearTimeout(force);
  }
}
