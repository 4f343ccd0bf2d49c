import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GatewayError } from '../../errors/index.ts';
import { sha256 } from './auth.ts';
import { AdminHttpServer, isLoopbackHost } from './server.ts';
import { bearer, captureLogger, jsonOf, startAdmin, type TestAdmin } from './test-helpers.ts';
import { defineAdminRoute, type AdminRoute } from './types.ts';

const ADMIN_TOKEN = 'admin-secret-token-1234';
const VIEWER_TOKEN = 'viewer-secret-token-5678';
const HASHED_TOKEN = 'operator-token-hashed';

const routes: AdminRoute[] = [
  defineAdminRoute({ method: 'GET', path: '/admin/things', role: 'viewer', summary: 'list', handler: () => ({ body: { items: [1, 2] } }) }),
  defineAdminRoute({ method: 'GET', path: '/admin/things/:name', role: 'viewer', summary: 'one', handler: (ctx) => ({ body: { name: ctx.params.name, who: ctx.principal.name } }) }),
  defineAdminRoute({ method: 'DELETE', path: '/admin/things/:name', role: 'admin', summary: 'delete', handler: () => ({ status: 204 }) }),
  defineAdminRoute({ method: 'POST', path: '/admin/reload', role: 'operator', summary: 'reload', action: 'config.reload', handler: () => ({ body: { ok: true } }) }),
  defineAdminRoute({
    method: 'POST', path: '/admin/conflict', role: 'operator', summary: 'conflict',
    handler: () => { throw new GatewayError('SLUICE_ERR_ADMIN_CONFLICT', { detail: 'still in use' }); },
  }),
  defineAdminRoute({ method: 'GET', path: '/admin/boom', role: 'viewer', summary: 'bug', handler: () => { throw new Error('db password=hunter2 leaked'); } }),
  defineAdminRoute({
    method: 'PUT', path: '/admin/rejected', role: 'admin', summary: 'handler-built problem',
    handler: () => ({ status: 400, contentType: 'application/problem+json', body: { code: 'SLUICE_ERR_CONFIG_INVALID', detail: 'config rejected' } }),
  }),
  defineAdminRoute({ method: 'GET', path: '/admin/text', role: 'viewer', summary: 'text', handler: () => ({ body: 'a: 1\n', contentType: 'application/yaml' }) }),
];

const auth = {
  tokens: [
    { name: 'root', role: 'admin' as const, token: ADMIN_TOKEN },
    { name: 'watcher', role: 'viewer' as const, token: VIEWER_TOKEN },
    { name: 'ci', role: 'operator' as const, sha256: sha256(HASHED_TOKEN).toString('hex') },
  ],
};

describe('AdminHttpServer with tokens', () => {
  let t: TestAdmin;
  before(async () => {
    t = await startAdmin(routes, auth, { publicRoutes: [{ path: '/healthz', handler: (_req, res) => void res.end('ok') }] });
  });
  after(() => t.close());

  it('401 without a token, with WWW-Authenticate: Bearer', async () => {
    const response = await fetch(`${t.base}/admin/things`);
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.equal(response.headers.get('content-type'), 'application/problem+json');
    const body = await jsonOf(response);
    assert.equal(body.code, 'SLUICE_ERR_ADMIN_UNAUTHORIZED');
    assert.equal(body.instance, '/admin/things');
    assert.equal(typeof body.requestId, 'string');
  });

  it('401 with a wrong token (error="invalid_token"), never echoing it', async () => {
    const response = await fetch(`${t.base}/admin/things`, { headers: bearer('not-the-token') });
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', /invalid_token/);
    assert.doesNotMatch(await response.text(), /not-the-token/);
  });

  it('401 for an unknown path when unauthenticated (paths are not revealed)', async () => {
    assert.equal((await fetch(`${t.base}/admin/nope`)).status, 401);
  });

  it('403 for a viewer on an admin route; 2xx for the right role', async () => {
    const denied = await fetch(`${t.base}/admin/things/a`, { method: 'DELETE', headers: bearer(VIEWER_TOKEN) });
    assert.equal(denied.status, 403);
    assert.equal((await jsonOf(denied)).code, 'SLUICE_ERR_ADMIN_FORBIDDEN');
    const allowed = await fetch(`${t.base}/admin/things/a`, { method: 'DELETE', headers: bearer(ADMIN_TOKEN) });
    assert.equal(allowed.status, 204);
    const read = await fetch(`${t.base}/admin/things/x%20y`, { headers: bearer(VIEWER_TOKEN) });
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(await read.json(), { name: 'x y', who: 'watcher' });
  });

  it('accepts a token configured by sha256 only', async () => {
    const response = await fetch(`${t.base}/admin/reload`, { method: 'POST', headers: bearer(HASHED_TOKEN) });
    assert.equal(response.status, 200);
  });

  it('404 problem for an unknown path, 405 with Allow for a wrong method', async () => {
    const missing = await fetch(`${t.base}/admin/nope`, { headers: bearer(ADMIN_TOKEN) });
    assert.equal(missing.status, 404);
    assert.equal((await jsonOf(missing)).code, 'SLUICE_ERR_ADMIN_NOT_FOUND');
    const wrong = await fetch(`${t.base}/admin/things/a`, { method: 'PUT', headers: bearer(ADMIN_TOKEN) });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'GET, HEAD, DELETE');
  });

  it('serves HEAD for GET routes without a body', async () => {
    const response = await fetch(`${t.base}/admin/things`, { method: 'HEAD', headers: bearer(VIEWER_TOKEN) });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), '');
    assert.equal(response.headers.get('content-length'), String(JSON.stringify({ items: [1, 2] }).length));
  });

  it('sets security headers on every response, and echoes a safe request id only', async () => {
    for (const response of [await fetch(`${t.base}/admin/things`), await fetch(`${t.base}/admin/things`, { headers: { ...bearer(VIEWER_TOKEN), 'x-request-id': 'abc-123' } })]) {
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(response.headers.get('x-frame-options'), 'DENY');
      assert.equal(response.headers.get('cache-control'), 'no-store');
      assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(response.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'");
    }
    const echoed = await fetch(`${t.base}/admin/things`, { headers: { ...bearer(VIEWER_TOKEN), 'x-request-id': 'abc-123' } });
    assert.equal(echoed.headers.get('x-request-id'), 'abc-123');
    const unsafe = await fetch(`${t.base}/admin/things`, { headers: { ...bearer(VIEWER_TOKEN), 'x-request-id': 'a b<script>' } });
    assert.match(unsafe.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('a GatewayError becomes its problem; anything else a 500 without internal detail', async () => {
    const conflict = await fetch(`${t.base}/admin/conflict`, { method: 'POST', headers: bearer(ADMIN_TOKEN) });
    assert.equal(conflict.status, 409);
    assert.equal((await jsonOf(conflict)).detail, 'still in use');
    const boom = await fetch(`${t.base}/admin/boom`, { headers: bearer(ADMIN_TOKEN) });
    assert.equal(boom.status, 500);
    const text = await boom.text();
    assert.doesNotMatch(text, /hunter2/);
    assert.equal(JSON.parse(text).code, 'SLUICE_ERR_INTERNAL');
    assert.ok(t.logs.some((line) => line.msg === 'admin request failed'));
  });

  it('sends string bodies as is with their content type', async () => {
    const response = await fetch(`${t.base}/admin/text`, { headers: bearer(VIEWER_TOKEN) });
    assert.equal(response.headers.get('content-type'), 'application/yaml');
    assert.equal(await response.text(), 'a: 1\n');
  });

  it('serves public routes without auth', async () => {
    const response = await fetch(`${t.base}/healthz`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'ok');
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
  });

  it('never logs tokens or the Authorization header', () => {
    const all = JSON.stringify(t.logs);
    for (const secret of [ADMIN_TOKEN, VIEWER_TOKEN, HASHED_TOKEN, 'not-the-token']) assert.ok(!all.includes(secret));
    assert.ok(!/authorization/i.test(all));
  });
});

describe('audit records', () => {
  let t: TestAdmin;
  before(async () => {
    t = await startAdmin(routes, auth);
  });
  after(() => t.close());

  it('records success, failure and denied once each, and GETs not at all', async () => {
    await fetch(`${t.base}/admin/things`, { headers: bearer(VIEWER_TOKEN) });
    await fetch(`${t.base}/admin/reload`, { method: 'POST', headers: { ...bearer(HASHED_TOKEN), 'x-request-id': 'req-1' } });
    await fetch(`${t.base}/admin/conflict`, { method: 'POST', headers: bearer(ADMIN_TOKEN) });
    await fetch(`${t.base}/admin/things/a`, { method: 'DELETE', headers: bearer(VIEWER_TOKEN) });
    await fetch(`${t.base}/admin/things`, { headers: bearer('wrong-token-value') });
    assert.equal(t.audit.length, 4);
    const [success, failure, forbidden, unauthorized] = t.audit;
    assert.deepEqual(
      { ...success, time: undefined },
      { time: undefined, actor: 'ci', role: 'operator', action: 'config.reload', method: 'POST', path: '/admin/reload', clientIp: '127.0.0.1', requestId: 'req-1', status: 200, outcome: 'success' },
    );
    assert.equal(failure!.outcome, 'failure');
    assert.equal(failure!.status, 409);
    assert.equal(failure!.detail, 'still in use');
    assert.equal(forbidden!.outcome, 'denied');
    assert.equal(forbidden!.action, 'DELETE /admin/things/:name');
    assert.equal(forbidden!.path, '/admin/things/a');
    assert.equal(forbidden!.actor, 'watcher');
    assert.equal(unauthorized!.outcome, 'denied');
    assert.equal(unauthorized!.actor, 'unknown');
    assert.equal(unauthorized!.role, 'none');
    assert.ok(!JSON.stringify(t.audit).includes('wrong-token-value'));
    const rejected = await fetch(`${t.base}/admin/rejected`, { method: 'PUT', headers: bearer(ADMIN_TOKEN) });
    assert.equal(rejected.headers.get('content-type'), 'application/problem+json');
    assert.deepEqual({ outcome: t.audit[4]!.outcome, status: t.audit[4]!.status, detail: t.audit[4]!.detail }, { outcome: 'failure', status: 400, detail: 'config rejected' });
  });
});

describe('without auth', () => {
  it('serves everyone as the anonymous admin on loopback, with a warning', async () => {
    const t = await startAdmin(routes, {});
    try {
      const response = await fetch(`${t.base}/admin/things/z`);
      assert.deepEqual(await response.json(), { name: 'z', who: 'anonymous' });
      assert.ok(t.logs.some((line) => line.level === 40 && /no tokens or jwt/.test(String(line.msg))));
      assert.throws(() => t.admin.setAuth({ tokens: [{ name: 'x', role: 'admin', token: { file: '/x' } }] }), /unresolved secret/);
    } finally {
      await t.close();
    }
  });

  it('refuses to start on a non-loopback host', async () => {
    const admin = new AdminHttpServer({ routes, auth: {}, rateLimitPerMinute: 10, audit: { record() {} }, logger: captureLogger([]) });
    await assert.rejects(admin.listen(0, '0.0.0.0'), /refusing to start the admin API on non-loopback host 0\.0\.0\.0/);
    assert.equal(admin.server.listening, false);
  });

  it('recognizes loopback hosts', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) assert.ok(isLoopbackHost(host), host);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1']) assert.ok(!isLoopbackHost(host), host);
  });

  it('setAuth swaps credentials at runtime', async () => {
    const t = await startAdmin(routes, {});
    try {
      t.admin.setAuth(auth);
      assert.equal((await fetch(`${t.base}/admin/things`)).status, 401);
      assert.equal((await fetch(`${t.base}/admin/things`, { headers: bearer(ADMIN_TOKEN) })).status, 200);
    } finally {
      await t.close();
    }
  });
});
