import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffConfigs, formatDiff } from './diff.ts';

function baseConfig() {
  return {
    listeners: [{ name: 'public', host: '0.0.0.0', port: 8080 }],
    upstreams: [
      { name: 'users-svc', balancer: 'round-robin', targets: [{ url: 'http://10.0.0.1:3000', weight: 1 }, { url: 'http://10.0.0.2:3000', weight: 1 }] },
      { name: 'legacy', targets: [{ url: 'http://10.0.9.9:80' }] },
    ],
    plugins: { global: { 'request-id': {} } },
    routes: [
      {
        name: 'users',
        match: { paths: ['/api/users/:id'], methods: ['GET'] },
        upstream: 'users-svc',
        plugins: { 'rate-limit': { limit: 100, window: '1m' }, cors: { origins: ['https://app.example.com'] } },
      },
      { name: 'old-api', match: { paths: ['/v1/*'] }, upstream: 'legacy' },
      { name: 'health', match: { paths: ['/health'] }, upstream: 'users-svc' },
    ],
  };
}

describe('diffConfigs', () => {
  it('finds nothing between equal documents, whatever their key order', () => {
    const a = baseConfig();
    const b = JSON.parse(JSON.stringify(a, Object.keys(a).reverse())) as unknown;
    assert.deepEqual(diffConfigs(a, structuredClone(a)), []);
    assert.deepEqual(diffConfigs({ x: 1, y: { p: 1, q: 2 } }, { y: { q: 2, p: 1 }, x: 1 }), []);
    assert.deepEqual(diffConfigs(b, b), []);
  });

  it('reports an added route by name, in document order', () => {
    const to = baseConfig();
    to.routes.splice(1, 0, { name: 'orders', match: { paths: ['/api/orders'] }, upstream: 'users-svc' });
    const diff = diffConfigs(baseConfig(), to);
    assert.deepEqual(diff, [{ op: 'add', path: '/routes[orders]', to: to.routes[1] }]);
    assert.equal(formatDiff(diff), '+ /routes[orders]: {…}');
  });

  it('reports a removed route and a removed upstream', () => {
    const to = baseConfig();
    to.routes.splice(1, 1);
    to.upstreams.splice(1, 1);
    const diff = diffConfigs(baseConfig(), to);
    assert.deepEqual(diff.map((e) => [e.op, e.path]), [['remove', '/upstreams[legacy]'], ['remove', '/routes[old-api]']]);
    assert.deepEqual(diff[1]?.from, baseConfig().routes[1]);
    assert.equal(formatDiff(diff), '- /upstreams[legacy]\n- /routes[old-api]');
  });

  it('matches targets by url: a weight change is one line', () => {
    const to = baseConfig();
    (to.upstreams[0]!.targets[1] as { weight: number }).weight = 3;
    const diff = diffConfigs(baseConfig(), to);
    assert.deepEqual(diff, [{ op: 'change', path: '/upstreams[users-svc]/targets[http://10.0.0.2:3000]/weight', from: 1, to: 3 }]);
    assert.equal(formatDiff(diff), '~ /upstreams[users-svc]/targets[http://10.0.0.2:3000]/weight: 1 → 3');
  });

  it('walks into plugin configs', () => {
    const to = baseConfig();
    const plugins = to.routes[0]!.plugins as Record<string, Record<string, unknown>>;
    plugins['rate-limit']!.limit = 50;
    delete plugins.cors;
    plugins['key-auth'] = { header: 'x-api-key' };
    to.plugins.global = { 'request-id': { header: 'x-req' } } as never;
    const diff = diffConfigs(baseConfig(), to);
    assert.equal(
      formatDiff(diff),
      [
        '+ /plugins/global/request-id/header: "x-req"',
        '~ /routes[users]/plugins/rate-limit/limit: 100 → 50',
        '- /routes[users]/plugins/cors',
        '+ /routes[users]/plugins/key-auth: {…}',
      ].join('\n'),
    );
  });

  it('shows lists of plain values whole', () => {
    const to = baseConfig();
    to.routes[0]!.match.methods = ['GET', 'POST'];
    to.routes[0]!.upstream = 'legacy';
    assert.equal(
      formatDiff(diffConfigs(baseConfig(), to)),
      '~ /routes[users]/match/methods: ["GET"] → ["GET","POST"]\n~ /routes[users]/upstream: "users-svc" → "legacy"',
    );
  });

  it('does not treat moving a named item as a change', () => {
    const to = baseConfig();
    to.routes.reverse();
    to.upstreams[0]!.targets.reverse();
    assert.deepEqual(diffConfigs(baseConfig(), to), []);
  });

  it('compares unnamed object lists by index', () => {
    const from = { rules: [{ path: '/a' }, { path: '/b' }] };
    const to = { rules: [{ path: '/a' }, { path: '/c' }, { path: '/d' }] };
    assert.equal(formatDiff(diffConfigs(from, to)), '~ /rules/1/path: "/b" → "/c"\n+ /rules/2: {…}');
    assert.equal(formatDiff(diffConfigs(to, from)), '~ /rules/1/path: "/c" → "/b"\n- /rules/2');
  });

  it('falls back to index matching when names repeat', () => {
    const from = { l: [{ name: 'a', v: 1 }, { name: 'a', v: 2 }] };
    const to = { l: [{ name: 'a', v: 1 }, { name: 'a', v: 3 }] };
    assert.deepEqual(diffConfigs(from, to), [{ op: 'change', path: '/l/1/v', from: 2, to: 3 }]);
  });

  it('reports type changes, new sections and escapes "/" in keys', () => {
    const diff = diffConfigs(
      { admin: { port: 9901 }, headers: { 'a/b': 'x' }, routes: [] },
      { admin: false, headers: { 'a/b': 'y' }, routes: [{ name: 'r' }], stores: { redis: { url: 'redis://x' } } },
    );
    assert.equal(
      formatDiff(diff),
      ['~ /admin: {…} → false', '~ /headers/a~1b: "x" → "y"', '+ /routes[r]: {…}', '+ /stores: {…}'].join('\n'),
    );
  });

  it('handles whole-document and undefined values', () => {
    assert.deepEqual(diffConfigs(undefined, { a: 1 }), [{ op: 'change', path: '', from: undefined, to: { a: 1 } }]);
    assert.equal(formatDiff(diffConfigs(1, 2)), '~ /: 1 → 2');
    assert.deepEqual(diffConfigs({ a: 1, b: undefined }, { a: 1 }), []);
    assert.equal(formatDiff([]), '');
  });

  it('abbreviates long arrays', () => {
    const long = Array.from({ length: 30 }, (_, i) => `/path/${i}`);
    assert.equal(formatDiff(diffConfigs({ p: ['/a'] }, { p: long })), '~ /p: ["/a"] → […]');
  });
});
