import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseMetrics, promtoolCheck, promtoolInstalled, sumOf } from '../helpers/prom.ts';
import { request, startGateway, startUpstream, type TestGateway, type TestServer } from '../helpers/servers.ts';
import { until } from '../helpers/wait.ts';

const TOKENS = { viewer: 'viewer-token-1', operator: 'operator-token-1' };

/** An upstream whose answer is switched by the test; counts the requests it gets. */
async function switchable(name: string) {
  const state = { status: 200, hits: 0 };
  const server = await startUpstream((req, res) => {
    state.hits++;
    req.resume();
    res.statusCode = state.status;
    res.end(name);
  });
  return { state, server };
}


describe('circuit breakers', () => {
  let gw: TestGateway;
  let dir: string;
  let admin: string;
  const servers: TestServer[] = [];
  let flaky: Awaited<ReturnType<typeof switchable>>;
  let forced: Awaited<ReturnType<typeof switchable>>;
  let bad: Awaited<ReturnType<typeof switchable>>;
  let good: Awaited<ReturnType<typeof switchable>>;
  let document: Record<string, unknown>;

  const call = (method: string, path: string, role: keyof typeof TOKENS, body?: unknown) =>
    request(`${admin}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKENS[role]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-breaker-'));
    flaky = await switchable('flaky');
    forced = await switchable('forced');
    bad = await switchable('bad');
    good = await switchable('good');
    bad.state.status = 503;
    servers.push(flaky.server, forced.server, bad.server, good.server);
    const breaker = { consecutiveFailures: 3, failureRate: 0, openDuration: '1s', halfOpenProbes: 1, successThreshold: 1 };
    document = {
      admin: {
        host: '127.0.0.1',
        port: 0,
        stateDir: dir,
        tokens: [
          { name: 'vera', role: 'viewer', token: TOKENS.viewer },
          { name: 'otto', role: 'operator', token: TOKENS.operator },
        ],
      },
      upstreams: [
        { name: 'flaky', targets: [{ url: flaky.server.url }], circuitBreaker: breaker },
        { name: 'forced', targets: [{ url: forced.server.url }], circuitBreaker: { ...breaker, perTarget: false } },
        {
          name: 'pair',
          targets: [{ url: bad.server.url }, { url: good.server.url }],
          circuitBreaker: { consecutiveFailures: 2, failureRate: 0, openDuration: '30s' },
        },
      ],
      routes: [
        { name: 'flaky', match: { paths: ['/flaky'] }, upstream: 'flaky' },
        { name: 'forced', match: { paths: ['/forced'] }, upstream: 'forced' },
        {
          name: 'forced-fallback',
          match: { paths: ['/fallback'] },
          upstream: 'forced',
          fallback: { status: 200, headers: { 'content-type': 'application/json', 'x-fallback': '1' }, body: '{"items":[]}' },
        },
        { name: 'pair', match: { paths: ['/pair'] }, upstream: 'pair' },
      ],
    };
    gw = await startGateway(document);
    admin = `http://127.0.0.1:${gw.gateway.adminAddress()!.port}`;
  });
  after(async () => {
    await gw.close();
    for (const s of servers) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a failing upstream opens the breaker: fast 503 with Retry-After and no upstream traffic, then half-open recovery', async () => {
    flaky.state.status = 500;
    for (let i = 0; i < 3; i++) assert.equal((await request(`${gw.url}/flaky`)).status, 500);
    const hits = flaky.state.hits;
    for (let i = 0; i < 5; i++) {
      const res = await request(`${gw.url}/flaky`);
      assert.equal(res.status, 503);
      assert.equal(JSON.parse(res.body).code, 'SLUICE_ERR_CIRCUIT_OPEN');
      assert.equal(res.headers['retry-after'], '1');
    }
    assert.equal(flaky.state.hits, hits, 'an open circuit sends nothing upstream');

    const scraped = (await request(`${admin}/metrics`)).body;
    const metrics = parseMetrics(scraped);
    if (promtoolInstalled) assert.equal(promtoolCheck(scraped), '', 'the new families pass promtool');
    assert.equal(sumOf(metrics, 'sluice_circuit_breaker_state', { upstream: 'flaky', target: '' }), 1);
    assert.equal(sumOf(metrics, 'sluice_admission_rejections_total', { scope: 'upstream', name: 'flaky', reason: 'circuit-open' }), 5);

    flaky.state.status = 200;
    await until('the half-open probe to close the circuit', async () => ((await request(`${gw.url}/flaky`)).status === 200 ? true : undefined));
    for (let i = 0; i < 3; i++) assert.equal((await request(`${gw.url}/flaky`)).status, 200);
    const opened = gw.logs.filter((l) => l.msg === 'circuit opened' && l.upstream === 'flaky' && l.target === undefined);
    assert.equal(opened.length, 1, 'the transition is logged once, not per rejected request');
    const after = parseMetrics((await request(`${admin}/metrics`)).body);
    assert.equal(sumOf(after, 'sluice_circuit_breaker_state', { upstream: 'flaky', target: '' }), 0);
    assert.equal(sumOf(after, 'sluice_circuit_breaker_transitions_total', { upstream: 'flaky', target: '', to: 'half-open' }), 1);
    assert.equal(sumOf(after, 'sluice_circuit_breaker_transitions_total', { upstream: 'flaky', target: '', to: 'closed' }), 1);
  });

  it('a half-open probe that fails reopens the circuit', async () => {
    flaky.state.status = 500;
    for (let i = 0; i < 3; i++) await request(`${gw.url}/flaky`);
    assert.equal((await request(`${gw.url}/flaky`)).status, 503);
    const hits = flaky.state.hits;
    // The first request once half-open is the probe: it fails (500) and reopens the circuit.
    await until('the probe', async () => ((await request(`${gw.url}/flaky`)).status === 500 ? true : undefined));
    assert.equal(flaky.state.hits, hits + 1);
    const res = await request(`${gw.url}/flaky`);
    assert.equal(res.status, 503);
    assert.equal(flaky.state.hits, hits + 1);
    flaky.state.status = 200;
  });

  it('operators force a circuit open or closed through the admin API; the route fallback answers while open', async () => {
    assert.equal((await call('PUT', '/admin/upstreams/forced/circuit', 'viewer', { state: 'open' })).status, 403);
    const put = await call('PUT', '/admin/upstreams/forced/circuit', 'operator', { state: 'open' });
    assert.equal(put.status, 200);
    assert.deepEqual({ state: JSON.parse(put.body).circuit.state, forced: JSON.parse(put.body).circuit.forced }, { state: 'open', forced: 'open' });
    const hits = forced.state.hits;
    const plain = await request(`${gw.url}/forced`);
    assert.equal(plain.status, 503);
    assert.equal(JSON.parse(plain.body).code, 'SLUICE_ERR_CIRCUIT_OPEN');
    assert.ok(Number(plain.headers['retry-after']) >= 1);
    const fb = await request(`${gw.url}/fallback`);
    assert.equal(fb.status, 200);
    assert.equal(fb.headers['x-fallback'], '1');
    assert.equal(fb.body, '{"items":[]}');
    assert.equal(forced.state.hits, hits);
    // Forced open stays open past openDuration (no half-open while forced).
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal((await request(`${gw.url}/forced`)).status, 503);

    const listed = JSON.parse((await call('GET', '/admin/upstreams', 'viewer')).body).upstreams.find((u: { name: string }) => u.name === 'forced');
    assert.equal(listed.circuit.state, 'open');

    forced.state.status = 500;
    assert.equal((await call('PUT', '/admin/upstreams/forced/circuit', 'operator', { state: 'closed' })).status, 200);
    for (let i = 0; i < 5; i++) assert.equal((await request(`${gw.url}/forced`)).status, 500, 'forced closed: failures do not trip it');
    forced.state.status = 200;
    assert.equal((await call('PUT', '/admin/upstreams/forced/circuit', 'operator', { state: 'auto' })).status, 200);
    assert.equal((await request(`${gw.url}/forced`)).status, 200);
    assert.equal((await request(`${gw.url}/fallback`)).body, 'forced', 'closed circuit: the upstream answers, not the fallback');
    assert.equal((await call('PUT', '/admin/upstreams/flaky/circuit', 'operator', { state: 'open', target: 'http://127.0.0.1:1/' })).status, 404);
    const audit = JSON.parse((await call('GET', '/admin/audit?action=upstream.circuit', 'viewer')).body).entries as Array<{ actor: string; outcome: string }>;
    assert.ok(audit.some((e) => e.actor === 'otto' && e.outcome === 'success'), 'forcing is audited');
    assert.ok(audit.some((e) => e.actor === 'vera' && e.outcome === 'denied'), 'the refused attempt too');
  });

  it('a target breaker takes a failing target out of rotation while its upstream keeps serving', async () => {
    for (let i = 0; i < 6; i++) await request(`${gw.url}/pair`);
    const badHits = bad.state.hits;
    assert.equal(badHits, 2, 'two consecutive failures open the bad target\'s breaker');
    for (let i = 0; i < 10; i++) {
      const res = await request(`${gw.url}/pair`);
      assert.equal(res.status, 200);
      assert.equal(res.body, 'good');
    }
    assert.equal(bad.state.hits, badHits);
    const view = JSON.parse((await call('GET', '/admin/upstreams/pair', 'viewer')).body);
    const states = Object.fromEntries(view.targets.map((t: { url: string; circuit: { state: string }; available: boolean }) => [t.url, [t.circuit.state, t.available]]));
    assert.deepEqual(states, { [bad.server.url + '/']: ['open', false], [good.server.url + '/']: ['closed', true] });
    assert.equal(view.circuit.state, 'closed');
  });

  it('breaker state and overrides survive a config reload', async () => {
    assert.equal((await call('PUT', '/admin/upstreams/forced/circuit', 'operator', { state: 'open' })).status, 200);
    const next = structuredClone(document) as { listeners?: unknown; upstreams: Array<{ name: string; circuitBreaker: Record<string, unknown> }> };
    next.listeners = [{ name: 'public', host: '127.0.0.1', port: gw.port }];
    next.upstreams.find((u) => u.name === 'forced')!.circuitBreaker.openDuration = '2s';
    const outcome = await gw.gateway.reload(next);
    assert.equal(outcome.ok, true);
    const res = await request(`${gw.url}/forced`);
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '2', 'the new openDuration applies to the kept breaker');
    assert.equal((await call('PUT', '/admin/upstreams/forced/circuit', 'operator', { state: 'auto' })).status, 200);
    assert.equal((await request(`${gw.url}/forced`)).status, 200);
    // The open target breaker of "pair" was carried over too: the bad target still gets nothing.
    const badHits = bad.state.hits;
    for (let i = 0; i < 4; i++) assert.equal((await request(`${gw.url}/pair`)).body, 'good');
    assert.equal(bad.state.hits, badHits);
  });
});
