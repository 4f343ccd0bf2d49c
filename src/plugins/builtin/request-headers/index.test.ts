import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createInstance, fakeContext, fakeUpstreamRequest } from '../../test-helpers.ts';
import { requestHeadersPlugin } from './index.ts';

describe('request-headers plugin', () => {
  it('renames, removes, sets and adds on the upstream request, in that order', async () => {
    const plugin = await createInstance(requestHeadersPlugin, {
      rename: { authorization: 'x-original-auth' },
      remove: ['cookie', 'x-original-auth'],
      set: { 'x-client': '${client_ip}:${client_port}', host: 'internal.svc' },
      add: { 'x-via-route': '${route}->${upstream}', 'x-tag': ['a', 'b'] },
    });
    assert.equal(plugin.onRequest, undefined);
    assert.equal(plugin.onResponse, undefined);
    const ctx = fakeContext({ target: { upstream: 'users-svc', url: 'http://10.0.0.2:80' } });
    const req = fakeUpstreamRequest(['Host', 'api.example.com', 'Authorization', 'Bearer t', 'Cookie', 'c=1', 'accept', '*/*']);
    plugin.onUpstreamRequest!(ctx, req);
    assert.deepEqual(req.headers.raw, [
      'accept', '*/*',
      'x-client', '192.0.2.10:51234',
      'host', 'internal.svc',
      'x-via-route', 'users->users-svc',
      'x-tag', 'a',
      'x-tag', 'b',
    ]);
  });

  it('renders request headers and query parameters into values', async () => {
    const plugin = await createInstance(requestHeadersPlugin, { set: { 'x-tenant': '${query.tenant}/${header.x-user}' } });
    const ctx = fakeContext({ query: 'tenant=acme&x=1', headers: { 'x-user': 'u1' } });
    const req = fakeUpstreamRequest();
    plugin.onUpstreamRequest!(ctx, req);
    assert.equal(req.headers.get('x-tenant'), 'acme/u1');
  });

  it('removes a set header whose template renders empty', async () => {
    const plugin = await createInstance(requestHeadersPlugin, { set: { 'x-user': '${header.x-user-override}' } });
    const req = fakeUpstreamRequest(['x-user', 'spoofed']);
    plugin.onUpstreamRequest!(fakeContext(), req);
    assert.equal(req.headers.has('x-user'), false);
  });

  it('has no hooks when nothing is configured', async () => {
    assert.deepEqual(await createInstance(requestHeadersPlugin, {}), {});
  });

  it('refuses framing headers, bad names, bad values and unknown variables', async () => {
    await assert.rejects(createInstance(requestHeadersPlugin, { set: { 'content-length': '0' } }), /hop-by-hop or framing/);
    await assert.rejects(createInstance(requestHeadersPlugin, { remove: ['Transfer-Encoding'] }), /hop-by-hop or framing/);
    await assert.rejects(createInstance(requestHeadersPlugin, { add: { host: 'x' } }), /only be changed with "set"/);
    await assert.rejects(createInstance(requestHeadersPlugin, { set: { 'bad name': 'x' } }), /Unexpected property/);
    await assert.rejects(createInstance(requestHeadersPlugin, { set: { 'x-a': 'a\r\nb: c' } }), /set\.x-a/);
    await assert.rejects(createInstance(requestHeadersPlugin, { set: { 'x-a': '${cookie.sid}' } }), /unknown template variable/);
  });
});
