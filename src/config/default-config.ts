/**
 * The embedded config `sluice start` uses when given no file: a public listener on :8080 with
 * demo routes to the built-in echo upstream, and the admin listener on 127.0.0.1:9901.
 */
export function defaultConfig(echoUrl: string): Record<string, unknown> {
  return {
    listeners: [{ name: 'public', host: '0.0.0.0', port: 8080 }],
    upstreams: [{ name: 'echo', targets: [{ url: echoUrl }] }],
    plugins: { global: { 'request-id': {} } },
    routes: [
      {
        name: 'users',
        match: { paths: ['/api/users/:id'], methods: ['GET'] },
        upstream: 'echo',
        rewrite: { path: '/users/:id' },
        plugins: { 'response-headers': { set: { 'x-served-by': 'sluice', 'x-route': '${route}' } } },
      },
      { name: 'echo', match: { paths: ['/*'] }, upstream: 'echo' },
    ],
    admin: { host: '127.0.0.1', port: 9901 },
  };
}
