import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createInstance, fakeContext, fakeUpstreamResponse } from '../../test-helpers.ts';
import { compileOrigins, corsPlugin, originAllowed } from './index.ts';

describe('cors origins', () => {
  it('matches exact, * and wildcard subdomains (not the bare domain, not look-alikes)', () => {
    const m = compileOrigins(['https://app.example.org', 'https://*.example.com']);
    assert.ok(originAllowed(m, 'https://app.example.org'));
    assert.ok(originAllowed(m, 'HTTPS://APP.EXAMPLE.ORG'));
    assert.ok(originAllowed(m, 'https://a.example.com'));
    assert.ok(originAllowed(m, 'https://a.b.example.com:8443'));
    assert.ok(!originAllowed(m, 'https://example.com'));
    assert.ok(!originAllowed(m, 'http://a.example.com'));
    assert.ok(!originAllowed(m, 'https://evil-example.com'));
    assert.ok(!originAllowed(m, 'https://a.example.com.evil.net'));
    assert.ok(originAllowed(compileOrigins(['*']), 'null'));
  });
  it('rejects a wildcard anywhere but the first label, with its path', async () => {
    await assert.rejects(createInstance(corsPlugin, { origins: ['https://x.org', 'https://app.*.com'] }), (e: Error & { path?: string }) => {
      assert.equal(e.path, 'origins.1');
      assert.match(e.message, /only allowed as the first label/);
      return true;
    });
  });
});

describe('cors plugin', () => {
  const config = { origins: ['https://*.example.com'], methods: ['GET', 'POST'], exposeHeaders: ['grpc-status', 'grpc-message'], maxAge: 600 };

  it('answers a preflight with 204, reflecting requested headers by default', async () => {
    const plugin = await createInstance(corsPlugin, config);
    const ctx = fakeContext({
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-grpc-web, content-type' },
    });
    const direct = plugin.onRequest!(ctx) as { status: number; headers: Record<string, string> };
    assert.equal(direct.status, 204);
    assert.equal(direct.headers['access-control-allow-origin'], 'https://app.example.com');
    assert.equal(direct.headers['access-control-allow-methods'], 'GET, POST');
    assert.equal(direct.headers['access-control-allow-headers'], 'x-grpc-web, content-type');
    assert.equal(direct.headers['access-control-max-age'], '600');
    assert.deepEqual(ctx.responseHeaders, ['vary', 'Origin']);
  });

  it('adds headers to actual responses and drops the upstream\'s own CORS headers', async () => {
    const plugin = await createInstance(corsPlugin, { ...config, credentials: true });
    const ctx = fakeContext({ method: 'POST', headers: { origin: 'https://app.example.com' } });
    assert.equal(plugin.onRequest!(ctx), undefined);
    assert.deepEqual(ctx.responseHeaders, [
      'vary', 'Origin',
      'access-control-allow-origin', 'https://app.example.com',
      'access-control-allow-credentials', 'true',
      'access-control-expose-headers', 'grpc-status, grpc-message',
    ]);
    const res = fakeUpstreamResponse(['Access-Control-Allow-Origin', '*', 'content-type', 'x']);
    plugin.onResponse!(ctx, res);
    assert.deepEqual(res.headers.raw, ['content-type', 'x']);
  });

  it('leaves disallowed origins and non-CORS requests alone (OPTIONS is proxied)', async () => {
    const plugin = await createInstance(corsPlugin, config);
    const other = fakeContext({ method: 'OPTIONS', headers: { origin: 'https://evil.net', 'access-control-request-method': 'POST' } });
    assert.equal(plugin.onRequest!(other), undefined);
    assert.deepEqual(other.responseHeaders, ['vary', 'Origin']);
    const res = fakeUpstreamResponse(['access-control-allow-origin', 'https://evil.net']);
    plugin.onResponse!(other, res);
    assert.equal(res.headers.raw.length, 2);
    const plain = fakeContext();
    assert.equal(plugin.onRequest!(plain), undefined);
    assert.deepEqual(plain.responseHeaders, []);
  });

  it('"*" without credentials answers "*" and needs no Vary', async () => {
    const plugin = await createInstance(corsPlugin, { origins: ['*'], allowedHeaders: ['content-type'] });
    const ctx = fakeContext({ method: 'OPTIONS', headers: { origin: 'https://x.test', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-other' } });
    const direct = plugin.onRequest!(ctx) as { headers: Record<string, string> };
    assert.equal(direct.headers['access-control-allow-origin'], '*');
    assert.equal(direct.headers['access-control-allow-headers'], 'content-type');
    assert.deepEqual(ctx.responseHeaders, []);
  });
});
