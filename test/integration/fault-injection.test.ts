import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseMetrics, promtoolCheck, promtoolInstalled, sumOf } from '../helpers/prom.ts';
import { request, startGateway, startUpstream, type TestGateway, type TestServer } from '../helpers/servers.ts';

describe('fault-injection plugin through the gateway', () => {
  let dir: string;
  let up: TestServer;
  let gw: TestGateway;
  let admin: string;
  /** Requests the upstream received, by path, with their headers. */
  const seen: { url: string; headers: http.IncomingHttpHeaders }[] = [];
  const hits = (prefix: string) => seen.filter((s) => s.url.startsWith(prefix)).length;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-fault-'));
    up = await startUpstream((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end('upstream'));
    });
    gw = await startGateway({
      admin: { host: '127.0.0.1', port: 0, stateDir: dir },
      upstreams: [{ name: 'u', targets: [{ url: up.url }] }],
      routes: [
        { name: 'abort', match: { paths: ['/abort/*'] }, upstream: 'u', plugins: { 'fault-injection': { abort: { status: 503 } } } },
        { name: 'teapot', match: { paths: ['/body/*'] }, upstream: 'u', plugins: { 'fault-injection': { abort: { status: 429, body: 'injected' } } } },
        { name: 'delay', match: { paths: ['/delay/*'] }, upstream: 'u', plugins: { 'fault-injection': { delay: { duration: '1s' } } } },
        { name: 'headers', match: { paths: ['/h/*'] }, upstream: 'u', plugins: { 'fault-injection': { headers: true } } },
        { name: 'plain', match: { paths: ['/plain/*'] }, upstream: 'u' },
      ],
    });
    admin = `http://127.0.0.1:${gw.gateway.adminAddress()!.port}`;
  });
  after(async () => {
    await gw.close();
    await up.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('aborts with problem+json SLUICE_ERR_FAULT_INJECTED and the configured status, never reaching the upstream', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await request(`${gw.url}/abort/x`);
      assert.equal(res.status, 503);
      assert.equal(res.headers['content-type'], 'application/problem+json');
      const problem = JSON.parse(res.body) as { code: string; status: number; requestId: string };
      assert.equal(problem.code, 'SLUICE_ERR_FAULT_INJECTED');
      assert.equal(problem.status, 503);
      assert.ok(problem.requestId.length > 0);
    }
    assert.equal(hits('/abort'), 0);
    const body = await request(`${gw.url}/body/x`);
    assert.equal(body.status, 429);
    assert.equal(body.body, 'injected');
    assert.equal(hits('/body'), 0);
  });

  it('delays without blocking other requests, then forwards', async () => {
    const order: string[] = [];
    const delayed = request(`${gw.url}/delay/x`).then((r) => (order.push('delayed'), r));
    // Sent after the delayed one, answered before it: the delay is a timer, not a blocked loop.
    await new Promise((r) => setTimeout(r, 50));
    const plain = await request(`${gw.url}/plain/x`).then((r) => (order.push('plain'), r));
    assert.equal(plain.status, 200);
    assert.equal(hits('/delay'), 0, 'still held');
    const res = await delayed;
    assert.equal(res.status, 200);
    assert.equal(res.body, 'upstream');
    assert.deepEqual(order, ['plain', 'delayed']);
    assert.equal(hits('/delay'), 1);
  });

  it('a client that leaves during the delay is never forwarded', async () => {
    const before = hits('/delay');
    await new Promise<void>((resolve) => {
      const req = http.get(`${gw.url}/delay/gone`, { agent: false });
      req.on('error', () => resolve());
      setTimeout(() => req.destroy(), 100);
    });
    // Past the 1 s delay: had the plugin kept waiting, the request would have gone upstream.
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(hits('/delay') - before, 0);
    const m = parseMetrics((await request(`${admin}/metrics`)).body);
    assert.equal(sumOf(m, 'sluice_plugin_fault_injection_active_delays'), 0);
  });

  it('applies x-sluice-fault-* headers when enabled and strips them before forwarding', async () => {
    const aborted = await request(`${gw.url}/h/x`, { headers: { 'x-sluice-fault-abort': '502' } });
    assert.equal(aborted.status, 502);
    assert.equal((JSON.parse(aborted.body) as { code: string }).code, 'SLUICE_ERR_FAULT_INJECTED');
    const skipped = await request(`${gw.url}/h/y`, { headers: { 'x-sluice-fault-abort': '502', 'x-sluice-fault-abort-percentage': '0' } });
    assert.equal(skipped.status, 200);
    const forwarded = seen.find((s) => s.url === '/h/y')!;
    assert.equal(forwarded.headers['x-sluice-fault-abort'], undefined);
    assert.equal(forwarded.headers['x-sluice-fault-abort-percentage'], undefined);
    // Routes without headers: true ignore them.
    assert.equal((await request(`${gw.url}/plain/z`, { headers: { 'x-sluice-fault-abort': '502' } })).status, 200);
  });

  it('gRPC-Web clients get a trailers-only answer with the gRPC status matching the injected HTTP status', async () => {
    const grpcWeb = { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1' };
    const unavailable = await request(`${gw.url}/abort/svc.Method`, { method: 'POST', headers: grpcWeb, body: Buffer.alloc(5) });
    assert.equal(unavailable.status, 200);
    assert.equal(unavailable.headers['grpc-status'], '14');
    assert.match(decodeURIComponent(String(unavailable.headers['grpc-message'])), /^SLUICE_ERR_FAULT_INJECTED/);
    const exhausted = await request(`${gw.url}/h/svc.Method`, { method: 'POST', headers: { ...grpcWeb, 'x-sluice-fault-abort': '429' }, body: Buffer.alloc(5) });
    assert.equal(exhausted.headers['grpc-status'], '8');
    assert.equal(hits('/abort'), 0);
  });

  it('counts injected faults per route in /metrics', async () => {
    const text = (await request(`${admin}/metrics`)).body;
    const m = parseMetrics(text);
    const injected = 'sluice_plugin_fault_injection_injected_total';
    assert.equal(sumOf(m, injected, { route: 'abort', fault: 'abort' }), 4);
    assert.equal(sumOf(m, injected, { route: 'teapot', fault: 'abort' }), 1);
    assert.equal(sumOf(m, injected, { route: 'delay', fault: 'delay' }), 2);
    assert.equal(sumOf(m, injected, { route: 'headers', fault: 'abort' }), 2);
    if (promtoolInstalled) assert.equal(promtoolCheck(text), '');
  });
});
