import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createInstance, fakeContext, fakeUpstreamRequest, fakeUpstreamResponse } from '../../test-helpers.ts';
import { requestIdPlugin } from './index.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request-id plugin', () => {
  it('adopts a safe incoming id, echoes it and forwards it upstream (replacing the incoming header)', async () => {
    const plugin = await createInstance(requestIdPlugin);
    const ctx = fakeContext({ headers: { 'x-request-id': 'abc-123.XYZ:9_z' } });
    plugin.onRequest!(ctx);
    assert.equal(ctx.id, 'abc-123.XYZ:9_z');
    assert.deepEqual(ctx.responseHeaders, ['x-request-id', 'abc-123.XYZ:9_z']);
    const req = fakeUpstreamRequest(['X-Request-Id', 'abc-123.XYZ:9_z', 'accept', '*/*']);
    plugin.onUpstreamRequest!(ctx, req);
    assert.deepEqual(req.headers.raw, ['accept', '*/*', 'x-request-id', 'abc-123.XYZ:9_z']);
  });

  it('replaces unsafe, empty, overlong or repeated ids with a UUID', async () => {
    const plugin = await createInstance(requestIdPlugin);
    for (const incoming of ['', 'has space', 'a\u001b[31m', '{"json":1}', 'x'.repeat(201), 'a, b', ['a', 'b'], undefined]) {
      const ctx = fakeContext({ headers: { 'x-request-id': incoming } });
      plugin.onRequest!(ctx);
      assert.match(ctx.id, UUID, JSON.stringify(incoming));
    }
    const ctx = fakeContext({ headers: { 'x-request-id': 'x'.repeat(200) } });
    plugin.onRequest!(ctx);
    assert.equal(ctx.id, 'x'.repeat(200));
  });

  it('generates a new id for every request when trustIncoming is false', async () => {
    const plugin = await createInstance(requestIdPlugin, { trustIncoming: false });
    const a = fakeContext({ headers: { 'x-request-id': 'client-id' } });
    const b = fakeContext();
    plugin.onRequest!(a);
    plugin.onRequest!(b);
    assert.match(a.id, UUID);
    assert.notEqual(a.id, b.id);
  });

  it('uses a custom header name, case-insensitively', async () => {
    const plugin = await createInstance(requestIdPlugin, { header: 'X-Correlation-ID' });
    const ctx = fakeContext({ headers: { 'x-correlation-id': 'corr-1' } });
    plugin.onRequest!(ctx);
    assert.equal(ctx.id, 'corr-1');
    assert.deepEqual(ctx.responseHeaders, ['X-Correlation-ID', 'corr-1']);
  });

  it('drops an id echoed by the upstream so the client sees the header once', async () => {
    const plugin = await createInstance(requestIdPlugin);
    const res = fakeUpstreamResponse(['X-Request-ID', 'whatever', 'content-type', 'text/plain']);
    plugin.onResponse!(fakeContext(), res);
    assert.deepEqual(res.headers.raw, ['content-type', 'text/plain']);
  });

  it('does not echo when echo is false (and leaves upstream headers alone)', async () => {
    const plugin = await createInstance(requestIdPlugin, { echo: false });
    const ctx = fakeContext();
    plugin.onRequest!(ctx);
    assert.deepEqual(ctx.responseHeaders, []);
    assert.equal(plugin.onResponse, undefined);
  });

  it('rejects invalid options', async () => {
    await assert.rejects(createInstance(requestIdPlugin, { header: 'bad header' }), /header/);
    await assert.rejects(createInstance(requestIdPlugin, { header: 'Content-Length' }), /managed by the proxy/);
    await assert.rejects(createInstance(requestIdPlugin, { other: true }), /Unexpected property/);
  });
});
