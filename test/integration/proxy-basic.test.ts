import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rawRequest, request, startEchoUpstream, startGateway, type TestGateway, type TestServer } from '../helpers/servers.ts';

describe('proxying basics', () => {
  let a: TestServer;
  let b: TestServer;
  let gw: TestGateway;

  before(async () => {
    a = await startEchoUpstream({ 'x-which': 'a' });
    b = await startEchoUpstream({ 'x-which': 'b' });
    gw = await startGateway({
      upstreams: [
        { name: 'pair', targets: [{ url: a.url }, { url: b.url }] },
        { name: 'one', targets: [{ url: `${a.url}/base` }], hostHeader: 'target' },
      ],
      plugins: { global: { 'request-id': {} } },
      routes: [
        { name: 'users', match: { paths: ['/api/users/:id'], methods: ['GET'] }, upstream: 'one', rewrite: { path: '/u/:id' } },
        { name: 'strip', match: { paths: ['/strip/*'] }, upstream: 'one', rewrite: { stripPrefix: '/strip' } },
        { name: 'all', match: { paths: ['/*'] }, upstream: 'pair' },
      ],
      proxy: { via: true, forwarded: true },
    });
  });
  after(async () => {
    await gw.close();
    await a.close();
    await b.close();
  });

  it('forwards method, path, query and body and returns the upstream response', async () => {
    const res = await request(`${gw.url}/hello/world?x=1&y=2`, { method: 'POST', body: 'ping', headers: { 'content-type': 'text/plain' } });
    assert.equal(res.status, 200);
    const echo = JSON.parse(res.body);
    assert.equal(echo.method, 'POST');
    assert.equal(echo.url, '/hello/world?x=1&y=2');
    assert.equal(echo.body, 'ping');
    assert.equal(echo.headers['content-length'], '4');
  });

  it('balances round robin over two targets', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(String((await request(`${gw.url}/rr`)).headers['x-which']));
    assert.equal(seen.filter((w) => w === 'a').length, 3);
    assert.equal(seen.filter((w) => w === 'b').length, 3);
    for (let i = 1; i < seen.length; i++) assert.notEqual(seen[i], seen[i - 1]);
  });

  it('adds X-Forwarded-*, Forwarded and Via, preserves Host and echoes the request id', async () => {
    const res = await request(`${gw.url}/fwd`, { headers: { 'x-forwarded-for': '203.0.113.9', 'x-request-id': 'abc-123', host: 'shop.example' } });
    const echo = JSON.parse(res.body);
    assert.equal(echo.headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(echo.headers['x-forwarded-proto'], 'http');
    assert.equal(echo.headers['x-forwarded-host'], 'shop.example');
    assert.equal(echo.headers['x-forwarded-port'], String(gw.port));
    assert.equal(echo.headers.host, 'shop.example');
    assert.match(echo.headers.forwarded, /^for=127\.0\.0\.1;host="shop\.example";proto=http$/);
    assert.equal(echo.headers.via, '1.1 sluice');
    assert.equal(echo.headers['x-request-id'], 'abc-123');
    assert.equal(res.headers['x-request-id'], 'abc-123');
    assert.match(String(res.headers.via), /1\.1 sluice$/);
  });

  it('replaces spoofed X-Forwarded-Proto from an untrusted client', async () => {
    const res = await request(`${gw.url}/fwd`, { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil' } });
    const echo = JSON.parse(res.body);
    assert.equal(echo.headers['x-forwarded-proto'], 'http');
    assert.notEqual(echo.headers['x-forwarded-host'], 'evil');
  });

  it('generates a request id when the client sends none or an unsafe one', async () => {
    const res = await request(`${gw.url}/id`, { headers: { 'x-request-id': 'bad id\twith tab' } });
    const echo = JSON.parse(res.body);
    assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.equal(echo.headers['x-request-id'], res.headers['x-request-id']);
  });

  it('removes hop-by-hop headers, including those listed in Connection', async () => {
    const res = await request(`${gw.url}/hop`, {
      headers: {
        connection: 'keep-alive, x-secret-hop',
        'x-secret-hop': '1',
        'keep-alive': 'timeout=5',
        te: 'trailers',
        'proxy-authorization': 'Basic Zm9vOmJhcg==',
        'proxy-connection': 'keep-alive',
        'x-kept': 'yes',
      },
    });
    const echo = JSON.parse(res.body);
    for (const h of ['x-secret-hop', 'keep-alive', 'te', 'proxy-authorization', 'proxy-connection', 'upgrade', 'trailer']) {
      assert.equal(echo.headers[h], undefined, `${h} must not be forwarded`);
    }
    assert.equal(echo.headers['x-kept'], 'yes');
  });

  it('rewrites paths: template with params, strip prefix, target base path, target host header', async () => {
    let echo = JSON.parse((await request(`${gw.url}/api/users/42?full=1`)).body);
    assert.equal(echo.url, '/base/u/42?full=1');
    assert.equal(echo.headers.host, a.url.slice('http://'.length));
    echo = JSON.parse((await request(`${gw.url}/strip/x/y`)).body);
    assert.equal(echo.url, '/base/x/y');
  });

  it('normalizes dot segments before routing and forwarding', async () => {
    const reply = await rawRequest(gw.port, 'GET /strip/../api/users/7 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 200/);
    assert.match(reply, /"url":"\/base\/u\/7"/);
  });

  it('accepts absolute-form targets and routes on their host', async () => {
    const reply = await rawRequest(gw.port, 'GET http://abs.example/abs?q=1 HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 200/);
    assert.match(reply, /"url":"\/abs\?q=1"/);
    assert.match(reply, /"host":"abs\.example"/);
  });

  it('writes one access-log line per request', async () => {
    await request(`${gw.url}/logged`);
    await new Promise((r) => setTimeout(r, 50));
    const line = gw.logs.find((l) => l.kind === 'access' && l.path === '/logged');
    assert.ok(line, 'access log line present');
    assert.equal(line.status, 200);
    assert.equal(line.route, 'all');
    assert.equal(line.upstream, 'pair');
  });
});

describe('no route and wrong method', () => {
  let up: TestServer;
  let gw: TestGateway;
  before(async () => {
    up = await startEchoUpstream();
    gw = await startGateway({
      upstreams: [{ name: 'u', targets: [{ url: up.url }] }],
      plugins: { global: { 'request-id': {} } },
      routes: [{ name: 'users', match: { paths: ['/api/users/:id'], methods: ['GET', 'PUT'] }, upstream: 'u' }],
    });
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  it('answers 405 with Allow and problem+json when only the method differs', async () => {
    const res = await request(`${gw.url}/api/users/1`, { method: 'DELETE' });
    assert.equal(res.status, 405);
    assert.equal(res.headers['content-type'], 'application/problem+json');
    assert.equal(res.headers.allow, 'GET, HEAD, PUT');
    const problem = JSON.parse(res.body);
    assert.equal(problem.code, 'SLUICE_ERR_METHOD_NOT_ALLOWED');
    assert.equal(problem.status, 405);
    assert.equal(problem.instance, '/api/users/1');
  });

  it('answers 404 with problem+json when no route matches', async () => {
    const res = await request(`${gw.url}/nothing/here`);
    assert.equal(res.status, 404);
    const problem = JSON.parse(res.body);
    assert.equal(problem.code, 'SLUICE_ERR_ROUTE_NOT_FOUND');
    assert.equal(problem.type, 'urn:sluice:error:SLUICE_ERR_ROUTE_NOT_FOUND');
    assert.ok(problem.requestId);
  });
});
