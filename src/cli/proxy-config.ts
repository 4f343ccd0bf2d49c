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
    // h2c:// targets arrive with the protocols work; until then say so instead of guessing.
    if (!/^https?:\/\//.test(url)) throw new Error(`unsupported target URL "${url}" (expected http:// or https://)`);
    return { url };
  });
  return {
    listeners: [
      {
        name: 'proxy',
        host: options.host,
        port: options.listen,
        ...(options.maxBodySize === undefined ? {} : { limits: { maxBodySize: /^\d+$/.test(options.maxBodySize) ? Number(options.maxBodySize) : options.maxBodySize } }),
      },
    ],
    upstreams: [{ name: 'default', targets, balancer: { algorithm: 'round-robin' } }],
    routes: [{ name: 'all', match: { paths: ['/*'] }, upstream: 'default' }],
    plugins: { global: { 'request-id': {} } },
    admin: options.admin === undefined ? { enabled: false } : { enabled: true, port: options.admin },
    observability: { accessLog: options.accessLog, ...(options.metrics === false ? { metrics: { enabled: false } } : {}) },
  };
}
