import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { request, startEchoUpstream, startGateway, type TestGateway, type TestServer } from '../helpers/servers.ts';

const THIRD_PARTY = fileURLToPath(new URL('../fixtures/plugins/tenant-gate.mjs', import.meta.url));

describe('plugins end to end', () => {
  let up: TestServer;
  let gw: TestGateway;

  before(async () => {
    up = await startEchoUpstream({ 'x-upstream-secret': 'internal' });
    gw = await startGateway({
      plugins: {
        paths: [THIRD_PARTY],
        global: { 'request-id': {}, 'response-headers': { set: { 'x-gateway': 'sluice' } } },
      },
      upstreams: [{ name: 'u', targets: [{ url: up.url }] }],
      routes: [
        {
          name: 'gated',
          match: { paths: ['/gated/*'] },
          upstream: 'u',
          plugins: { 'tenant-gate': { tenant: 'acme' } },
        },
        {
          name: 'no-gateway-header',
          match: { paths: ['/plain/*'] },
          upstream: 'u',
          plugins: { 'response-headers': false },
        },
        {
          name: 'headers',
          match: { paths: ['/h/*'] },
          upstream: 'u',
          plugins: {
            'request-headers': {
              set: { 'x-client': '${client_ip}', 'x-route-name': '${route}' },
              remove: ['x-remove-me'],
              rename: { 'x-old': 'x-new' },
              add: { 'x-via-query': '${query.q}' },
            },
            'response-headers': { remove: ['x-upstream-secret'], set: { 'x-route': '${route}' } },
          },
        },
      ],
    });
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  it('a third-party plugin loaded from plugins.paths can answer directly', async () => {
    const denied = await request(`${gw.url}/gated/x`, { headers: { 'x-tenant': 'other' } });
    assert.equal(denied.status, 403);
    assert.deepEqual(JSON.parse(denied.body), { error: 'wrong tenant' });
    assert.ok(denied.headers['x-request-id'], 'request-id (higher priority) ran first');
    assert.equal(denied.headers['x-gateway'], 'sluice', 'global response headers apply to direct responses');
  });

  it('async onUpstreamRequest and onResponse phases run in order', async () => {
    const ok = await request(`${gw.url}/gated/x`, { headers: { 'x-tenant': 'acme' } });
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.body).headers['x-tenant-checked'], 'acme');
    assert.equal(ok.headers['x-plugin-saw-status'], '200');
  });

  it('request-headers and response-headers transform both ways with templates', async () => {
    const res = await request(`${gw.url}/h/x?q=hello`, { headers: { 'x-remove-me': '1', 'x-old': 'v' } });
    const echo = JSON.parse(res.body);
    assert.equal(echo.headers['x-client'], '127.0.0.1');
    assert.equal(echo.headers['x-route-name'], 'headers');
    assert.equal(echo.headers['x-remove-me'], undefined);
    assert.equal(echo.headers['x-old'], undefined);
    assert.equal(echo.headers['x-new'], 'v');
    assert.equal(echo.headers['x-via-query'], 'hello');
    assert.equal(res.headers['x-upstream-secret'], undefined);
    assert.equal(res.headers['x-route'], 'headers');
    assert.equal(res.headers['x-gateway'], undefined, 'a route config replaces the global config of the same plugin');
  });

  it('a route can switch a global plugin off with false', async () => {
    const res = await request(`${gw.url}/plain/x`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-gateway'], undefined);
    assert.ok(res.headers['x-request-id']);
  });

  it('error responses carry plugin response headers and the request id', async () => {
    const res = await request(`${gw.url}/gated/nope`, { headers: { 'x-tenant': 'other' } });
    assert.equal(res.status, 403);
    assert.ok(res.headers['x-request-id']);
  });

  it('rejects an invalid plugin config with the exact path', async () => {
    await assert.rejects(
      startGateway({
        upstreams: [{ name: 'u', targets: [{ url: up.url }] }],
        routes: [{ name: 'r', match: { paths: ['/*'] }, upstream: 'u', plugins: { 'request-headers': { set: { 'bad header': 'x' } } } }],
      }),
      (error: Error & { issues?: Array<{ path: string }> }) => {
        assert.ok(error.issues?.some((i) => i.path.startsWith('/routes/0/plugins/request-headers/set')), JSON.stringify(error.issues));
        return true;
      },
    );
  });
});
