export interface ProxyOptions {
  listen: number;
  host: string;
  to: string[];
  admin: number | undefined;
  accessLog: boolean;
  /** Per-request metrics (on by default). */
  metrics?: boolean;
  /** e.g. "10mb"; the listener default when absent. */
  maxBodySize?: string | undefined;
}

/** The one-line reverse proxy (`sluice proxy`) as an ordinary config: every path to the targets. */
export function proxyConfig(options: ProxyOptions): Record<string, unknown> {
  const targets = options.to.map((url) => {
    if (!/^(https?|h2c):\/\//.test(url)) throw new Error(`unsupported target URL "${url}" (expected http://, https:// or h2c://)`);
    return { url };
  });
  // An upstream speaks one protocol: h2c:// (HTTP/2 cleartext, e.g. a gRPC server) makes it http2.
  const h2c = targets.filter((t) => t.url.startsWith('h2c://')).length;
  if (h2c > 0 && h2c < targets.length) throw new Error('--to targets mix h2c:// with http(s):// ; use one protocol per proxy');
  return {
    listeners: [
      {
        name: 'proxy',
        host: options.host,
        port: options.listen,
        ...(options.maxBodySize === undefined ? {} : { limits: { maxBodySize: /^\d+$/.test(options.maxBodySize) ? Number(options.maxBodySize) : options.maxBodySize } }),
      },
    ],
    upstreams: [{ name: 'default', targets, ...(h2c > 0 ? { protocol: 'http2' } : {}), balancer: { algorithm: 'round-robin' } }],
    routes: [{ name: 'all', match: { paths: ['/*'] }, upstream: 'default' }],
    plugins: { global: { 'request-id': {} } },
    admin: options.admin === undefined ? { enabled: false } : { enabled: true, port: options.admin },
    observability: { accessLog: options.accessLog, ...(options.metrics === false ? { metrics: { enabled: false } } : {}) },
  };
}
