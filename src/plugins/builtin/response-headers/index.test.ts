import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createInstance, fakeContext, fakeUpstreamResponse } from '../../test-helpers.ts';
import { responseHeadersPlugin } from './index.ts';

/** What the client sees for a proxied response, assuming the pipeline appends ctx.responseHeaders after onResponse. */
function clientView(upstream: string[], responseHeaders: string[]): string[] {
  return [...upstream, ...responseHeaders];
}

describe('response-headers plugin', () => {
  const config = {
    rename: { server: 'x-upstream-server' },
    remove: ['x-powered-by'],
    set: { 'x-frame-options': 'DENY', 'x-request-id-copy': '${request_id}', 'x-served-by': '${upstream}' },
    add: { 'x-tag': ['a', '${route}'] },
  };

  it('with applyToErrors (default): pushes request-time set/add into ctx.responseHeaders, no duplicates on proxied responses', async () => {
    const plugin = await createInstance(responseHeadersPlugin, config);
    const ctx = fakeContext({ id: 'req-7' });
    assert.equal(plugin.onRequest!(ctx), undefined);
    // This is also exactly what an error or direct response gets.
    assert.deepEqual(ctx.responseHeaders, ['x-frame-options', 'DENY', 'x-request-id-copy', 'req-7', 'x-tag', 'a', 'x-tag', 'users']);

    const target = { upstream: 'users-svc', url: 'http://10.0.0.2:80' };
    const proxied = { ...ctx, target };
    const res = fakeUpstreamResponse(['Server', 'nginx', 'X-Powered-By', 'php', 'X-Frame-Options', 'SAMEORIGIN', 'x-tag', 'up']);
    plugin.onResponse!(proxied, res);
    assert.deepEqual(clientView(res.headers.raw, ctx.responseHeaders), [
      'x-upstream-server', 'nginx',
      'x-tag', 'up',
      'x-served-by', 'users-svc', // needs the target: applied in onResponse only
      'x-frame-options', 'DENY',
      'x-request-id-copy', 'req-7',
      'x-tag', 'a',
      'x-tag', 'users',
    ]);
  });

  it('with applyToErrors false: applies everything in onResponse only', async () => {
    const plugin = await createInstance(responseHeadersPlugin, { ...config, applyToErrors: false });
    assert.equal(plugin.onRequest, undefined);
    const ctx = fakeContext({ id: 'req-8', target: { upstream: 'users-svc', url: 'http://10.0.0.2:80' } });
    const res = fakeUpstreamResponse(['Server', 'nginx', 'X-Powered-By', 'php', 'X-Frame-Options', 'SAMEORIGIN']);
    plugin.onResponse!(ctx, res);
    assert.deepEqual(ctx.responseHeaders, []);
    assert.deepEqual(res.headers.raw, [
      'x-upstream-server', 'nginx',
      'x-frame-options', 'DENY',
      'x-request-id-copy', 'req-8',
      'x-served-by', 'users-svc',
      'x-tag', 'a',
      'x-tag', 'users',
    ]);
  });

  it('an empty set result removes the upstream header in both modes', async () => {
    for (const applyToErrors of [true, false]) {
      const plugin = await createInstance(responseHeadersPlugin, { set: { 'x-debug': '${header.x-debug-echo}' }, applyToErrors });
      const ctx = fakeContext();
      plugin.onRequest?.(ctx);
      const res = fakeUpstreamResponse(['x-debug', 'internal']);
      plugin.onResponse!(ctx, res);
      assert.deepEqual(clientView(res.headers.raw, ctx.responseHeaders), [], `applyToErrors=${applyToErrors}`);
    }
  });

  it('skips onRequest when only remove/rename are configured', async () => {
    const plugin = await createInstance(responseHeadersPlugin, { remove: ['server'] });
    assert.equal(plugin.onRequest, undefined);
    const res = fakeUpstreamResponse(['Server', 'x', 'a', 'b']);
    plugin.onResponse!(fakeContext(), res);
    assert.deepEqual(res.headers.raw, ['a', 'b']);
  });

  it('refuses framing headers and Host', async () => {
    await assert.rejects(createInstance(responseHeadersPlugin, { set: { 'Transfer-Encoding': 'chunked' } }), /hop-by-hop or framing/);
    await assert.rejects(createInstance(responseHeadersPlugin, { set: { host: 'x' } }), /"host" cannot be changed here/);
    await assert.rejects(createInstance(responseHeadersPlugin, { applyToErrors: 'yes' }), /applyToErrors/);
  });
});
