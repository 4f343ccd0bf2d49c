import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import type { PluginDefinition } from '../plugins/types.ts';
import type { RouteConfig } from './schema/index.ts';
import { validateConfig, type ValidateOptions } from './validate.ts';

const corsPlugin: PluginDefinition = {
  name: 'cors',
  priority: 0,
  schema: Type.Object({ origins: Type.Array(Type.String(), { default: ['*'] }), maxAge: Type.Optional(Type.Integer()) }, { additionalProperties: false }),
  create: () => ({}),
};
const options: ValidateOptions = { plugins: new Map([['cors', corsPlugin]]) };

const minimal = () => ({
  listeners: [{ name: 'public', port: 8080 }],
  upstreams: [{ name: 'api', targets: [{ url: 'http://127.0.0.1:3000' }] }],
  routes: [{ name: 'api', match: { paths: ['/api/*'] }, upstream: 'api' }] as Record<string, unknown>[],
});

function errors(raw: unknown, opts: ValidateOptions = options): string[] {
  const result = validateConfig(raw, opts);
  return result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`);
}

describe('validateConfig', () => {
  it('returns the config with every default applied, including absent optional sections', () => {
    const raw = minimal();
    const result = validateConfig(raw, options);
    assert.ok(result.ok);
    const { config } = result;
    assert.equal(config.listeners[0]!.host, '0.0.0.0');
    assert.deepEqual(config.listeners[0]!.timeouts, { headers: '20s', request: '5m', keepAlive: '5s' });
    assert.deepEqual(config.admin, { enabled: true, host: '127.0.0.1', port: 9901, jwt: { roleClaim: 'role' }, rateLimit: { requestsPerMinute: 600 }, stateDir: '.sluice', historyLimit: 50 });
    const { tracing, ...observability } = config.observability!;
    assert.deepEqual(observability, { logLevel: 'info', accessLog: true, metrics: { enabled: true, maxRouteLabels: 1000, maxTargetLabels: 1000 } });
    assert.equal(tracing?.enabled, false, 'tracing defaults are filled in (its endpoint is a valid uri)');
    assert.equal(tracing?.endpoint, 'http://127.0.0.1:4318/v1/traces');
    assert.equal(config.upstreams?.[0]?.balancer?.algorithm, 'round-robin');
    assert.equal(config.upstreams?.[0]?.targets[0]!.weight, 1);
    assert.equal(config.routes?.[0]?.priority, 0);
    assert.deepEqual(config.consumers, []);
    assert.equal(config.routes?.[0]?.rewrite, undefined, 'objects without defaults stay absent');
    assert.equal(config.plugins, undefined);
    assert.equal((raw.listeners[0] as Record<string, unknown>).host, undefined, 'the input is not modified');
  });

  it('applies plugin defaults; an empty plugin value means defaults', () => {
    const raw = { ...minimal(), plugins: { global: { cors: null } } };
    raw.routes[0]!.plugins = { cors: { maxAge: 5 } };
    const result = validateConfig(raw, options);
    assert.ok(result.ok);
    assert.deepEqual(result.config.plugins?.global, { cors: { origins: ['*'] } });
    assert.deepEqual(result.config.routes?.[0]?.plugins, { cors: { origins: ['*'], maxAge: 5 } });
  });

  it('keeps checking references when the schema is also violated', () => {
    const raw = minimal();
    raw.routes[0]!.upstream = 'apx';
    raw.routes[0]!.timeouts = { response: 'soon' };
    assert.deepEqual(errors(raw), [
      '/routes/0/upstream: unknown upstream "apx" (did you mean "api"?)',
      '/routes/0/timeouts/response: expected a duration such as 500, "250ms", "30s", got "soon"',
    ]);
  });

  it('sorts issues in document order, parents before children, absent keys last', () => {
    const raw = { routes: [{ match: {}, name: 'r', upstream: 'x', bogus: 1 }], listeners: [{ name: 'l', port: 'x' }] };
    assert.deepEqual(errors(raw), [
      '/routes/0/match/paths: missing required property "paths"',
      '/routes/0/upstream: unknown upstream "x"',
      '/routes/0/bogus: unknown property "bogus"',
      '/listeners/0/port: expected an integer, got "x"',
    ]);
  });

  it('rejects a retry backoff cap below its base, and unknown retry conditions, with their paths', () => {
    const raw = minimal();
    const route = (raw as { routes: Record<string, unknown>[] }).routes[0]!;
    route.retry = { backoff: { base: '100ms', max: '50ms' } };
    assert.deepEqual(errors(raw), ['/routes/0/retry/backoff/max: must be at least backoff.base (100 ms), got 50 ms']);
    route.retry = { backoff: { base: '1s' } };
    assert.equal(errors(raw).length, 1, 'against the 250 ms default cap');
    route.retry = { on: ['503', 'sometimes'] };
    assert.equal(errors(raw).length, 1);
    assert.match(errors(raw)[0]!, /^\/routes\/0\/retry\/on\/1/);
    route.retry = { attempts: 2, on: ['gateway-error', 'grpc-unavailable'], backoff: { base: '10ms', max: '1s' }, timeouts: undefined };
    delete (route.retry as Record<string, unknown>).timeouts;
    route.timeouts = { deadline: '3s' };
    assert.deepEqual(errors(raw), []);
  });

  it('rejects a request deadline shorter than the head deadline (node:http would refuse to listen)', () => {
    const raw = minimal();
    (raw.listeners[0] as Record<string, unknown>).timeouts = { headers: '30s', request: '10s' };
    assert.deepEqual(errors(raw), ['/listeners/0/timeouts/request: must be 0 (no limit) or at least timeouts.headers (30000 ms), got 10000 ms']);
    (raw.listeners[0] as Record<string, unknown>).timeouts = { request: '5s' };
    assert.equal(errors(raw).length, 1, 'against the 20 s default head deadline');
    (raw.listeners[0] as Record<string, unknown>).timeouts = { headers: '30s', request: 0 };
    assert.deepEqual(errors(raw), []);
  });

  it('reports a document that is not a mapping', () => {
    assert.deepEqual(errors(null), [': the configuration must be a mapping with at least "listeners" (the file is empty)']);
    assert.deepEqual(errors('x'), [': the configuration must be a mapping with at least "listeners" (got "x")']);
  });

  it('accepts duplicate port 0 listeners and distinct hosts on one port', () => {
    const raw = { ...minimal(), listeners: [{ name: 'a', port: 0 }, { name: 'b', port: 0 }, { name: 'c', host: '127.0.0.1', port: 80 }, { name: 'd', host: '::1', port: 80 }] };
    assert.deepEqual(errors(raw), []);
  });

  it('checks hashOn only needs a name for header, cookie and query sources', () => {
    const raw = { ...minimal(), upstreams: [{ name: 'api', targets: [{ url: 'http://a' }], balancer: { algorithm: 'ip-hash', hashOn: { source: 'path' } } }] };
    assert.deepEqual(errors(raw), []);
    raw.upstreams[0]!.balancer.hashOn = { source: 'cookie' };
    assert.deepEqual(errors(raw), ['/upstreams/0/balancer/hashOn/name: missing required property "name" (needed when source is "cookie")']);
  });

  it('runs route checks on schema-valid routes only, prefixing their paths', () => {
    const seen: number[] = [];
    const routeChecks = (route: RouteConfig, index: number) => {
      seen.push(index);
      if (route.name === 'boom') throw new Error('bad regex');
      return [{ path: '/match/paths/0', message: 'nope' }, { path: '', message: 'whole route' }];
    };
    const raw = minimal();
    raw.routes.push({ name: 'broken', match: { paths: 'x' }, upstream: 'api' }, { name: 'boom', match: { paths: ['/b'] }, upstream: 'api' });
    assert.deepEqual(errors(raw, { ...options, routeChecks }), [
      '/routes/0: whole route',
      '/routes/0/match/paths/0: nope',
      '/routes/1/match/paths: expected a list, got "x"',
      '/routes/2: route check failed: bad regex',
    ]);
    assert.deepEqual(seen, [0, 2]);
  });
  it('accepts h2c:// targets (HTTP/2 cleartext) and rejects them in an upstream with protocol http1, with the path', () => {
    const ok = minimal();
    ok.upstreams = [{ name: 'api', targets: [{ url: 'h2c://127.0.0.1:50051' }] }];
    assert.deepEqual(errors(ok), []);
    const h2 = minimal();
    (h2.upstreams as Record<string, unknown>[]) = [{ name: 'api', protocol: 'http2', targets: [{ url: 'https://grpc.internal:443' }] }];
    assert.deepEqual(errors(h2), []);
    const bad = minimal();
    (bad.upstreams as Record<string, unknown>[]) = [{ name: 'api', protocol: 'http1', targets: [{ url: 'http://127.0.0.1:1' }, { url: 'h2c://127.0.0.1:50051' }] }];
    const found = errors(bad);
    assert.equal(found.length, 1);
    assert.match(found[0]!, /^\/upstreams\/0\/targets\/1\/url: h2c:\/\/ is HTTP\/2 cleartext/);
    const scheme = minimal();
    scheme.upstreams = [{ name: 'api', targets: [{ url: 'h3://127.0.0.1:1' }] }];
    assert.match(errors(scheme).join('\n'), /\/upstreams\/0\/targets\/0\/url/);
  });
});
