import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createGateway, type Gateway } from '../../src/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { request, startEchoUpstream, type TestServer } from '../helpers/servers.ts';

const TOKENS = { viewer: 'viewer-token-1', operator: 'operator-token-1', admin: 'admin-token-1' };

function config(stateDir: string, upstreams: string[]) {
  return {
    listeners: [{ name: 'public', host: '127.0.0.1', port: 0 }],
    admin: {
      host: '127.0.0.1',
      port: 0,
      stateDir,
      tokens: [
        { name: 'vera', role: 'viewer', token: TOKENS.viewer },
        { name: 'otto', role: 'operator', token: TOKENS.operator },
        { name: 'ada', role: 'admin', token: TOKENS.admin },
      ],
    },
    upstreams: [{ name: 'app', targets: [{ url: upstreams[0] }] }],
    routes: [{ name: 'all', match: { paths: ['/*'] }, upstream: 'app' }],
  };
}

describe('admin API', () => {
  let dir: string;
  let gateway: Gateway;
  let admin: string;
  let proxy: string;
  const ups: TestServer[] = [];

  const call = (method: string, path: string, role?: keyof typeof TOKENS, body?: unknown) =>
    request(`${admin}${path}`, {
      method,
      headers: {
        ...(role === undefined ? {} : { authorization: `Bearer ${TOKENS[role]}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-admin-'));
    ups.push(await startEchoUpstream({ 'x-which': 'a' }), await startEchoUpstream({ 'x-which': 'b' }));
    gateway = await createGateway(config(dir, ups.map((u) => u.url)), { logger: createLogger({ level: 'silent' }), accessLogSink: { write() {} } });
    await gateway.start();
    admin = `http://127.0.0.1:${gateway.adminAddress()!.port}`;
    proxy = `http://127.0.0.1:${[...gateway.addresses().values()][0]!.port}`;
  });
  after(async () => {
    await gateway.stop({ deadlineMs: 1000 });
    for (const u of ups) await u.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers probes without a token', async () => {
    assert.equal((await call('GET', '/healthz')).status, 200);
    const ready = await call('GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.equal(JSON.parse(ready.body).configVersion, 1);
  });

  it('401 without a token, 401 with a wrong one, 403 for a viewer writing', async () => {
    const none = await call('GET', '/admin/config');
    assert.equal(none.status, 401);
    assert.match(String(none.headers['www-authenticate']), /Bearer/);
    assert.equal(JSON.parse(none.body).code, 'SLUICE_ERR_ADMIN_UNAUTHORIZED');
    const wrong = await request(`${admin}/admin/config`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
    const denied = await call('PUT', '/admin/routes/x', 'viewer', { match: { paths: ['/x'] }, upstream: 'app' });
    assert.equal(denied.status, 403);
    assert.equal((await call('POST', '/admin/config/reload', 'viewer')).status, 403);
    assert.equal((await call('POST', '/admin/config/rollback/1', 'operator')).status, 403);
  });

  it('reads config (redacted), routes, upstreams, connections, summary, snapshot', async () => {
    const cfg = JSON.parse((await call('GET', '/admin/config', 'viewer')).body);
    assert.equal(cfg.version, 1);
    for (const t of cfg.config.admin.tokens) assert.equal(t.token, '[redacted]');
    const yaml = await call('GET', '/admin/config?format=yaml', 'viewer');
    assert.match(String(yaml.headers['content-type']), /yaml/);
    assert.match(yaml.body, /name: all/);
    assert.doesNotMatch(yaml.body, /admin-token-1/);
    assert.equal(JSON.parse((await call('GET', '/admin/routes', 'viewer')).body).routes[0].name, 'all');
    const upstreams = JSON.parse((await call('GET', '/admin/upstreams', 'viewer')).body).upstreams;
    assert.equal(upstreams[0].targets[0].available, true);
    await request(`${proxy}/warm`);
    const conns = JSON.parse((await call('GET', '/admin/connections', 'viewer')).body);
    assert.equal(conns.listeners[0].listener, 'public');
    assert.ok(conns.upstreams[0].targets[0].pool.connectsTotal >= 1);
    const summary = JSON.parse((await call('GET', '/admin/metrics/summary', 'viewer')).body);
    assert.ok(summary.routes.all['1m'].requests >= 1);
    assert.equal(JSON.parse((await call('GET', '/admin/snapshot', 'viewer')).body).version, 1);
  });

  it('creates, updates and deletes a route through the API as new versions', async () => {
    const created = await call('PUT', '/admin/routes/extra', 'admin', { match: { paths: ['/extra/*'] }, upstream: 'app', rewrite: { stripPrefix: '/extra' } });
    assert.equal(created.status, 201, created.body);
    const version = JSON.parse(created.body).version;
    const echo = JSON.parse((await request(`${proxy}/extra/hello`)).body);
    assert.equal(echo.url, '/hello');
    const invalid = await call('PUT', '/admin/routes/bad', 'admin', { match: { paths: ['/bad'] }, upstream: 'missing' });
    assert.equal(invalid.status, 400);
    const problem = JSON.parse(invalid.body);
    assert.ok(problem.errors.some((e: { path: string }) => e.path.endsWith('/upstream')), invalid.body);
    const schemaInvalid = await call('PUT', '/admin/routes/bad', 'admin', { match: { paths: 'nope' }, upstream: 'app' });
    assert.equal(schemaInvalid.status, 400);
    assert.equal((await call('DELETE', '/admin/routes/extra', 'admin')).status, 200);
    assert.equal((await request(`${proxy}/extra/hello`)).status, 200, 'falls back to the catch-all route');
    const versions = JSON.parse((await call('GET', '/admin/config/versions', 'viewer')).body);
    assert.equal(versions.current, version + 1);
  });

  it('refuses to delete an upstream still used by a route (409)', async () => {
    const res = await call('DELETE', '/admin/upstreams/app', 'admin');
    assert.equal(res.status, 409);
    assert.equal(JSON.parse(res.body).code, 'SLUICE_ERR_ADMIN_CONFLICT');
  });

  it('registers, overrides health of and deregisters a target (persisted)', async () => {
    const reg = await call('POST', '/admin/upstreams/app/targets', 'operator', { url: ups[1]!.url });
    assert.equal(reg.status, 201, reg.body);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add(String((await request(`${proxy}/t`)).headers['x-which']));
    assert.deepEqual([...seen].sort(), ['a', 'b']);
    const state = JSON.parse(await readFile(join(dir, 'targets.json'), 'utf8'));
    assert.equal(state.registered.app[0].url, `${ups[1]!.url}/`);
    const down = await call('PUT', '/admin/upstreams/app/targets/health', 'operator', { url: ups[0]!.url, state: 'down' });
    assert.equal(down.status, 200, down.body);
    for (let i = 0; i < 4; i++) assert.equal((await request(`${proxy}/t`)).headers['x-which'], 'b');
    await call('PUT', '/admin/upstreams/app/targets/health', 'operator', { url: ups[0]!.url, state: 'auto' });
    const dereg = await call('DELETE', `/admin/upstreams/app/targets?url=${encodeURIComponent(ups[1]!.url)}`, 'operator');
    assert.equal(dereg.status, 200, dereg.body);
    for (let i = 0; i < 3; i++) assert.equal((await request(`${proxy}/t`)).headers['x-which'], 'a');
  });

  it('diffs versions and rolls back', async () => {
    await call('PUT', '/admin/routes/temp', 'admin', { match: { paths: ['/temp'] }, upstream: 'app' });
    const versions = JSON.parse((await call('GET', '/admin/config/versions', 'viewer')).body);
    const current = versions.current as number;
    const diff = JSON.parse((await call('GET', `/admin/config/diff?from=${current - 1}&to=${current}`, 'viewer')).body);
    assert.ok(diff.changes.some((c: { op: string; path: string }) => c.op === 'add' && c.path.includes('temp')), JSON.stringify(diff));
    const rolled = await call('POST', `/admin/config/rollback/${current - 1}`, 'admin');
    assert.equal(rolled.status, 200, rolled.body);
    assert.equal(JSON.parse(rolled.body).version, current + 1);
    assert.equal((await call('GET', '/admin/routes/temp', 'viewer')).status, 404);
    assert.equal((await call('POST', '/admin/config/rollback/9999', 'admin')).status, 404);
  });

  it('changes the log level at runtime', async () => {
    const res = await call('PUT', '/admin/log-level', 'operator', { level: 'debug' });
    assert.equal(res.status, 200);
    assert.equal(gateway.logger.level, 'debug');
    assert.equal((await call('PUT', '/admin/log-level', 'operator', { level: 'loud' })).status, 400);
    await call('PUT', '/admin/log-level', 'operator', { level: 'silent' });
  });

  it('audits every write and every denial', async () => {
    const audit = JSON.parse((await call('GET', '/admin/audit?limit=200', 'viewer')).body).entries as Array<{ actor: string; outcome: string; action: string }>;
    assert.ok(audit.some((e) => e.actor === 'ada' && e.outcome === 'success' && e.action === 'route.put'));
    assert.ok(audit.some((e) => e.outcome === 'denied' && e.actor === 'vera'));
    assert.ok(audit.some((e) => e.actor === 'otto' && e.action === 'target.register'));
  });

  it('manages consumers, global plugins and upstream definitions', async () => {
    assert.equal((await call('PUT', '/admin/consumers/acme', 'admin', { tags: ['gold'] })).status, 201);
    assert.deepEqual(JSON.parse((await call('GET', '/admin/consumers/acme', 'viewer')).body), { tags: ['gold'], name: 'acme' });
    assert.equal(JSON.parse((await call('GET', '/admin/consumers', 'viewer')).body).consumers.length, 1);
    assert.equal((await call('DELETE', '/admin/consumers/acme', 'admin')).status, 200);
    assert.equal((await call('GET', '/admin/consumers/acme', 'viewer')).status, 404);

    const plugin = await call('PUT', '/admin/plugins/response-headers', 'admin', { set: { 'x-global': 'on' } });
    assert.equal(plugin.status, 200, plugin.body);
    assert.equal((await request(`${proxy}/p`)).headers['x-global'], 'on');
    assert.ok(JSON.parse((await call('GET', '/admin/plugins', 'viewer')).body).global['response-headers']);
    const badPlugin = await call('PUT', '/admin/plugins/response-headers', 'admin', { set: { 'bad name': 'x' } });
    assert.equal(badPlugin.status, 400);
    assert.equal((await call('PUT', '/admin/plugins/no-such-plugin', 'admin', {})).status, 400);
    assert.equal((await call('DELETE', '/admin/plugins/response-headers', 'admin')).status, 200);
    assert.equal((await request(`${proxy}/p`)).headers['x-global'], undefined);

    const put = await call('PUT', '/admin/upstreams/spare', 'admin', { targets: [{ url: ups[1]!.url }], balancer: { algorithm: 'least-connections' } });
    assert.equal(put.status, 201, put.body);
    assert.equal(JSON.parse((await call('GET', '/admin/upstreams/spare', 'viewer')).body).targets.length, 1);
    assert.equal((await call('DELETE', '/admin/upstreams/spare', 'admin')).status, 200);
    assert.equal((await call('GET', '/admin/upstreams/spare', 'viewer')).status, 404);
  });

  it('replaces the whole config and reads one version back (redacted)', async () => {
    const current = JSON.parse((await call('GET', '/admin/config/versions', 'viewer')).body).current as number;
    const stored = JSON.parse((await call('GET', `/admin/config/versions/${current}`, 'viewer')).body);
    assert.equal(stored.version, current);
    assert.equal(stored.source, 'api');
    for (const t of stored.config.admin.tokens) assert.equal(t.token, '[redacted]');
    const next = config(dir, ups.map((u) => u.url));
    next.routes.push({ name: 'whole', match: { paths: ['/whole'] }, upstream: 'app' });
    const replaced = await call('PUT', '/admin/config', 'admin', next);
    assert.equal(replaced.status, 200, replaced.body);
    assert.equal(JSON.parse(replaced.body).version, current + 1);
    assert.equal((await call('GET', '/admin/routes/whole', 'viewer')).status, 200);
    const invalid = await call('PUT', '/admin/config', 'admin', { listeners: 'nope' });
    assert.equal(invalid.status, 400);
    assert.ok(JSON.parse(invalid.body).errors.some((e: { path: string }) => e.path === '/listeners'));
    assert.equal((await call('POST', '/admin/config/reload', 'operator')).status, 409, 'no config file: nothing to reload');
  });

  it('exports control-plane metrics at /metrics (no token needed)', async () => {
    const res = await call('GET', '/metrics');
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /text\/plain/);
    assert.match(res.body, /sluice_config_applies_total\{source="startup",result="applied"\} 1/);
    assert.match(res.body, /sluice_config_applies_total\{source="api",result="rejected"\} [1-9]/);
    assert.match(res.body, /sluice_config_version [1-9]/);
    assert.match(res.body, /sluice_draining 0/);
    assert.match(res.body, /sluice_process_resident_memory_bytes/);
  });

  it('serves the OpenAPI document and the docs page', async () => {
    const doc = JSON.parse((await call('GET', '/admin/openapi.json', 'viewer')).body);
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/admin/routes/{name}'].put);
    const page = await call('GET', '/admin/docs', 'viewer');
    assert.equal(page.status, 200);
    assert.match(page.body, /<html/i);
  });
});
