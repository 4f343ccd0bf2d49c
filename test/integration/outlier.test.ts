import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { parseMetrics, sumOf } from '../helpers/prom.ts';
import { request, startGateway, type TestGateway } from '../helpers/servers.ts';
import { waitFor } from '../helpers/wait.ts';

/** An upstream that can be stopped (connection refused) and started again on the same port. */
async function flappy(name: string) {
  const mode = { value: 'ok' as 'ok' | '500' | 'hang' };
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    if (mode.value === 'hang') return; // never answers: the gateway's response timeout fires
    res.writeHead(mode.value === '500' ? 500 : 200, { 'x-which': name }).end(name);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    mode,
    hits: () => hits,
    down: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
    up: () => new Promise<void>((r) => server.listen(port, '127.0.0.1', r)),
  };
}
type Flappy = Awaited<ReturnType<typeof flappy>>;


describe('passive outlier detection', () => {
  const cleanup: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  async function setup(upstream: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
    const backs = [await flappy('a'), await flappy('b'), await flappy('c')];
    const gw: TestGateway = await startGateway({
      ...extra,
      upstreams: [{ name: 'app', targets: backs.map((b) => ({ url: b.url })), ...upstream }],
      routes: [{ name: 'all', match: { paths: ['/*'] }, upstream: 'app' }],
    });
    cleanup.push(async () => {
      await gw.close();
      for (const b of backs) await b.down().catch(() => undefined);
    });
    const available = () => gw.gateway.current().upstreams.get('app')!.targets.map((t) => t.available);
    return { backs, gw, available };
  }

  async function statuses(gw: TestGateway, n: number): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await request(`${gw.url}/x`)).status);
    return out;
  }

  it('by default: a dead target is ejected after 5 connect failures, then every request succeeds; it is re-admitted once back', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'sluice-outlier-'));
    cleanup.push(() => rm(stateDir, { recursive: true, force: true }));
    // Admin on (for /metrics), its state in a temporary directory.
    const { backs, gw, available } = await setup({ outlierDetection: { baseEjectionTime: '300ms' } }, { admin: { host: '127.0.0.1', port: 0, stateDir } });
    await backs[1]!.down();
    const first = await statuses(gw, 30);
    // Round robin over 3: b gets every third request until its 5th failure ejects it (with retries
    // on another target, clients may see fewer than 5 of these; the attempts still count).
    const failed = first.filter((s) => s === 502).length;
    assert.ok(failed <= 5, JSON.stringify(first));
    assert.equal(gw.gateway.health.registry.get('app', `${backs[1]!.url}/`)!.ejections, 1);
    assert.deepEqual(first.slice(-10), new Array(10).fill(200));
    assert.deepEqual(available(), [true, false, true]);
    assert.ok(gw.logs.some((l) => l.msg === 'target ejected (outlier detection)' && l.target === `${backs[1]!.url}/`));
    await backs[1]!.up();
    // Re-admitted after its ejection time (300 ms): "a recovered target is used again within seconds".
    await waitFor('b re-admitted', () => available()[1] === true);
    const before = backs[1]!.hits();
    assert.deepEqual(await statuses(gw, 6), new Array(6).fill(200));
    assert.equal(backs[1]!.hits() - before, 2);
    const metrics = parseMetrics((await request(`http://127.0.0.1:${gw.gateway.adminAddress()!.port}/metrics`)).body);
    assert.equal(sumOf(metrics, 'sluice_upstream_target_ejections_total', { upstream: 'app', target: `${backs[1]!.url}/` }), 1);
  });

  it('a hanging target is ejected on timeouts', async () => {
    const { backs, gw, available } = await setup({ timeouts: { response: 100 }, outlierDetection: { consecutiveGatewayErrors: 2 } });
    backs[0]!.mode.value = 'hang';
    const got = await statuses(gw, 12);
    assert.equal(got.filter((s) => s === 504).length, 2, JSON.stringify(got));
    assert.deepEqual(available(), [false, true, true]);
  });

  it('500s eject only with consecutive5xx set; ejection time grows with repeated ejections', async () => {
    const plain = await setup();
    plain.backs[2]!.mode.value = '500';
    await statuses(plain.gw, 30);
    assert.deepEqual(plain.available(), [true, true, true], '500s alone do not eject by default');

    const { backs, gw, available } = await setup({ outlierDetection: { consecutive5xx: 3, baseEjectionTime: '200ms', maxEjectionTime: '10s' } });
    backs[2]!.mode.value = '500';
    await statuses(gw, 9);
    assert.deepEqual(available(), [true, true, false]);
    const state = gw.gateway.health.registry.get('app', `${backs[2]!.url}/`)!;
    assert.equal(state.ejections, 1);
    await waitFor('c re-admitted', () => available()[2] === true);
    // Still failing: ejected again, for twice the base time.
    const before = Date.now();
    await statuses(gw, 9);
    assert.equal(state.ejections, 2);
    assert.ok(state.ejectedUntil - before >= 390, `second ejection lasts 2 × base (${state.ejectedUntil - before} ms)`);
  });

  it('never ejects more than maxEjectionPercent of the targets', async () => {
    const { backs, gw, available } = await setup({ outlierDetection: { consecutiveGatewayErrors: 1, maxEjectionPercent: 34 } });
    await backs[0]!.down();
    await backs[1]!.down();
    await statuses(gw, 12);
    assert.equal(available().filter((a) => !a).length, 1, JSON.stringify(available()));
  });

  it('outlierDetection.enabled: false keeps failing targets in rotation', async () => {
    const { backs, gw, available } = await setup({ outlierDetection: { enabled: false } });
    await backs[0]!.down();
    const got = await statuses(gw, 30);
    assert.ok(got.filter((s) => s === 502).length <= 10);
    assert.deepEqual(available(), [true, true, true]);
    assert.equal(gw.gateway.health.registry.get('app', `${backs[0]!.url}/`)!.ejectionsTotal, 0);
  });
});
