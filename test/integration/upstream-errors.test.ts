import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { request, responseOutcome, startGateway, startRawUpstream, startUpstream, type TestGateway } from '../helpers/servers.ts';

function single(url: string, extra: Record<string, unknown> = {}) {
  return {
    upstreams: [{ name: 'u', targets: [{ url }], ...extra }],
    routes: [{ name: 'all', match: { paths: ['/*'] }, upstream: 'u' }],
  };
}

describe('upstream failures map to problem+json', () => {
  const cleanup: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });
  async function gateway(config: Record<string, unknown>): Promise<TestGateway> {
    const gw = await startGateway(config);
    cleanup.push(() => gw.close());
    return gw;
  }

  it('connection refused → 502 SLUICE_ERR_UPSTREAM_CONNECT', async () => {
    const dead = await startUpstream(() => {});
    const url = dead.url;
    await dead.close();
    const gw = await gateway(single(url));
    const res = await request(`${gw.url}/x`);
    assert.equal(res.status, 502);
    assert.equal(res.headers['content-type'], 'application/problem+json');
    const problem = JSON.parse(res.body);
    assert.equal(problem.code, 'SLUICE_ERR_UPSTREAM_CONNECT');
    assert.equal(problem.instance, '/x');
    assert.doesNotMatch(res.body, /127\.0\.0\.1|ECONNREFUSED/, 'no internal detail leaks');
  });

  it('an upstream that never answers → 504 SLUICE_ERR_UPSTREAM_TIMEOUT', async () => {
    const silent = await startRawUpstream(() => {});
    cleanup.push(() => silent.close());
    const gw = await gateway(single(silent.url, { timeouts: { response: 300 } }));
    const res = await request(`${gw.url}/slow`);
    assert.equal(res.status, 504);
    assert.equal(JSON.parse(res.body).code, 'SLUICE_ERR_UPSTREAM_TIMEOUT');
  });

  it('a reset before the response → 502 SLUICE_ERR_UPSTREAM_RESET', async () => {
    const resetting = await startRawUpstream((s) => s.once('data', () => s.resetAndDestroy()));
    cleanup.push(() => resetting.close());
    const gw = await gateway(single(resetting.url));
    const res = await request(`${gw.url}/reset`);
    assert.equal(res.status, 502);
    assert.match(JSON.parse(res.body).code, /SLUICE_ERR_UPSTREAM_(RESET|CONNECT)/);
  });

  it('a malformed upstream response → 502 SLUICE_ERR_UPSTREAM_BAD_RESPONSE', async () => {
    const bad = await startRawUpstream((s) =>
      s.once('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')),
    );
    cleanup.push(() => bad.close());
    const gw = await gateway(single(bad.url));
    const res = await request(`${gw.url}/bad`);
    assert.equal(res.status, 502);
    assert.equal(JSON.parse(res.body).code, 'SLUICE_ERR_UPSTREAM_BAD_RESPONSE');
  });

  it('a truncated upstream body never looks complete to the client', async () => {
    const truncating = await startRawUpstream((s) =>
      s.once('data', () => {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly-part');
        setTimeout(() => s.destroy(), 50);
      }),
    );
    cleanup.push(() => truncating.close());
    const gw = await gateway(single(truncating.url));
    const outcome = await responseOutcome(`${gw.url}/trunc`);
    assert.equal(outcome, 'error');
  });

  it('a truncated chunked upstream body is not terminated with the last chunk', async () => {
    const truncating = await startRawUpstream((s) =>
      s.once('data', () => {
        s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
        setTimeout(() => s.destroy(), 50);
      }),
    );
    cleanup.push(() => truncating.close());
    const gw = await gateway(single(truncating.url));
    const outcome = await responseOutcome(`${gw.url}/trunc`);
    assert.equal(outcome, 'error');
  });

  it('no available target → 503 SLUICE_ERR_NO_HEALTHY_UPSTREAM', async () => {
    const up = await startUpstream((_q, r) => r.end('x'));
    cleanup.push(() => up.close());
    const gw = await gateway({
      upstreams: [{ name: 'u', targets: [{ url: up.url, weight: 0 }] }],
      routes: [{ name: 'all', match: { paths: ['/*'] }, upstream: 'u' }],
    });
    const res = await request(`${gw.url}/x`);
    assert.equal(res.status, 503);
    assert.equal(JSON.parse(res.body).code, 'SLUICE_ERR_NO_HEALTHY_UPSTREAM');
  });
});
