import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { definePlugin } from '../../src/plugins/types.ts';
import { parseMetrics, sumOf } from '../helpers/prom.ts';
import { request, startGateway, startUpstream, type SimpleResponse, type TestGateway, type TestServer } from '../helpers/servers.ts';
import { waitFor } from '../helpers/wait.ts';

/** An upstream that holds every request until the test lets them go. */
async function holding() {
  const held: Array<() => void> = [];
  let seen = 0;
  const server = await startUpstream((req, res) => {
    seen++;
    req.resume();
    held.push(() => res.end(`ok ${req.headers['x-priority'] ?? ''}`.trim()));
  });
  return {
    server,
    get seen() {
      return seen;
    },
    get held() {
      return held.length;
    },
    releaseAll() {
      for (const r of held.splice(0)) r();
    },
  };
}


const codeOf = (r: SimpleResponse) => (JSON.parse(r.body) as { code: string }).code;

describe('concurrency limits, queueing and load shedding', () => {
  let gw: TestGateway;
  let slow: Awaited<ReturnType<typeof holding>>;
  let fast: TestServer;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-shed-'));
    slow = await holding();
    fast = await startUpstream((req, res) => {
      req.resume();
      res.end('fast');
    });
    gw = await startGateway({
      admin: { host: '127.0.0.1', port: 0, stateDir: dir },
      upstreams: [
        { name: 'slow', targets: [{ url: slow.server.url }] },
        { name: 'slow-limited', targets: [{ url: slow.server.url }], limits: { maxInflight: 1, maxPending: 0 } },
        { name: 'fast', targets: [{ url: fast.url }] },
        { name: 'slow-queued', targets: [{ url: slow.server.url }], limits: { maxInflight: 1, maxPending: 5, queueTimeout: '10s' } },
      ],
      routes: [
        { name: 'limited', match: { paths: ['/limited'] }, upstream: 'slow', limits: { maxConcurrent: 2 } },
        { name: 'queued', match: { paths: ['/queued'] }, upstream: 'slow', limits: { maxConcurrent: 1, maxQueue: 4, queueTimeout: '300ms' } },
        { name: 'waits', match: { paths: ['/waits'] }, upstream: 'slow', limits: { maxConcurrent: 1, maxQueue: 1, queueTimeout: '10s' } },
        { name: 'upstream-limited', match: { paths: ['/up'] }, upstream: 'slow-limited' },
        { name: 'both', match: { paths: ['/both'] }, upstream: 'slow-queued', limits: { maxConcurrent: 5 } },
        {
          name: 'prio',
          match: { paths: ['/prio'] },
          upstream: 'slow',
          limits: { maxConcurrent: 1, maxQueue: 1, queueTimeout: '10s' },
          priorityClass: { header: 'x-priority' },
        },
        { name: 'other', match: { paths: ['/other'] }, upstream: 'fast' },
      ],
    });
  });
  after(async () => {
    slow.releaseAll();
    await gw.close();
    await slow.server.close();
    await fast.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a saturated route answers 503 at once while in-limit requests succeed and another route keeps serving', async () => {
    const inLimit = [request(`${gw.url}/limited`), request(`${gw.url}/limited`)];
    await waitFor('two requests at the upstream', () => slow.held === 2);
    const over = await request(`${gw.url}/limited`);
    assert.equal(over.status, 503);
    assert.equal(codeOf(over), 'SLUICE_ERR_ROUTE_OVERLOADED');
    assert.equal(slow.seen, 2, 'the overflow never reached the upstream');
    for (let i = 0; i < 5; i++) assert.equal((await request(`${gw.url}/other`)).body, 'fast', 'another route is unaffected');
    slow.releaseAll();
    for (const r of await Promise.all(inLimit)) assert.equal(r.status, 200);
    // The slots came back.
    const again = request(`${gw.url}/limited`);
    await waitFor('the next request at the upstream', () => slow.held === 1);
    slow.releaseAll();
    assert.equal((await again).status, 200);
  });

  it('a queued request is served when a slot frees; one that waits too long gets 503', async () => {
    const first = request(`${gw.url}/waits`);
    await waitFor('first request held', () => slow.held === 1);
    const second = request(`${gw.url}/waits`);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(slow.held, 1, 'the second waits in the gateway queue');
    slow.releaseAll();
    await waitFor('the queued request at the upstream', () => slow.held === 1);
    slow.releaseAll();
    assert.equal((await first).status, 200);
    assert.equal((await second).status, 200);

    const holder = request(`${gw.url}/queued`);
    await waitFor('holder at the upstream', () => slow.held === 1);
    const timedOut = await request(`${gw.url}/queued`);
    assert.equal(timedOut.status, 503);
    assert.equal(codeOf(timedOut), 'SLUICE_ERR_ROUTE_OVERLOADED');
    assert.match(JSON.parse(timedOut.body).detail, /in time/);
    slow.releaseAll();
    assert.equal((await holder).status, 200);
    const metrics = parseMetrics((await request(`http://127.0.0.1:${gw.gateway.adminAddress()!.port}/metrics`)).body);
    assert.equal(sumOf(metrics, 'sluice_admission_rejections_total', { scope: 'route', name: 'queued', reason: 'queue-timeout' }), 1);
    assert.equal(sumOf(metrics, 'sluice_admission_rejections_total', { scope: 'route', name: 'limited', reason: 'limit' }), 1);
    assert.equal(sumOf(metrics, 'sluice_admission_queue_depth', { scope: 'route', name: 'queued' }), 0);
  });

  it('an upstream concurrency limit answers 503 SLUICE_ERR_UPSTREAM_OVERLOADED for the overflow', async () => {
    const inLimit = request(`${gw.url}/up`);
    await waitFor('one request at the upstream', () => slow.held === 1);
    const over = await request(`${gw.url}/up`);
    assert.equal(over.status, 503);
    assert.equal(codeOf(over), 'SLUICE_ERR_UPSTREAM_OVERLOADED');
    slow.releaseAll();
    assert.equal((await inLimit).status, 200);
  });

  it('a client that gives up while queued frees its place and every slot it held', async () => {
    const admin = `http://127.0.0.1:${gw.gateway.adminAddress()!.port}`;
    const holder = request(`${gw.url}/both`);
    await waitFor('holder at the upstream', () => slow.held === 1);
    // Holds a route slot, waits for the upstream slot, then goes away.
    const quitter = http.get(`${gw.url}/both`, { agent: false });
    quitter.on('error', () => {});
    await waitFor('one request queued for the upstream', async () => {
      const m = parseMetrics((await request(`${admin}/metrics`)).body);
      return sumOf(m, 'sluice_admission_queue_depth', { scope: 'upstream', name: 'slow-queued' }) === 1;
    });
    quitter.destroy();
    await waitFor('the queue emptied', async () => {
      const m = parseMetrics((await request(`${admin}/metrics`)).body);
      return sumOf(m, 'sluice_admission_queue_depth', { scope: 'upstream', name: 'slow-queued' }) === 0 && sumOf(m, 'sluice_admission_inflight', { scope: 'route', name: 'both' }) === 1;
    });
    slow.releaseAll();
    assert.equal((await holder).status, 200);
    const m = parseMetrics((await request(`${admin}/metrics`)).body);
    assert.equal(sumOf(m, 'sluice_admission_inflight', { scope: 'upstream', name: 'slow-queued' }), 0);
    assert.equal(sumOf(m, 'sluice_admission_inflight', { scope: 'route', name: 'both' }), 0);
    const next = request(`${gw.url}/both`);
    await waitFor('the next request at the upstream', () => slow.held === 1);
    slow.releaseAll();
    assert.equal((await next).status, 200);
  });

  it('under pressure critical requests get through while low-priority ones are shed', async () => {
    const busy = request(`${gw.url}/prio`);
    await waitFor('the slot taken', () => slow.held === 1);
    const low = request(`${gw.url}/prio`, { headers: { 'x-priority': 'low' } });
    await new Promise((r) => setTimeout(r, 100));
    const critical = request(`${gw.url}/prio`, { headers: { 'x-priority': 'critical' } });
    const shed = await low;
    assert.equal(shed.status, 503, 'the queued low-priority request made room');
    assert.match(JSON.parse(shed.body).detail, /higher-priority/);
    const lowAgain = await request(`${gw.url}/prio`, { headers: { 'x-priority': 'low' } });
    assert.equal(lowAgain.status, 503, 'a full queue refuses a low arrival');
    slow.releaseAll();
    await waitFor('the critical request at the upstream', () => slow.held === 1);
    slow.releaseAll();
    assert.equal((await busy).status, 200);
    const served = await critical;
    assert.equal(served.status, 200);
    assert.equal(served.body, 'ok critical');
  });
});

/** Sets the request's class the way an auth plugin would from its consumer. */
const vipPlugin = definePlugin({
  name: 'vip-class',
  priority: 100,
  schema: Type.Object({}),
  create: () => ({
    onRequest(ctx) {
      if (ctx.query === 'vip=1') ctx.state.priorityClass = 'critical';
    },
  }),
});

describe('global overload protection', () => {
  let gw: TestGateway;
  let fast: TestServer;

  before(async () => {
    fast = await startUpstream((req, res) => {
      req.resume();
      res.end('fast');
    });
    gw = await startGateway({
      // Any heap use counts as overload here: the gateway sheds everything below "high".
      overload: { heapUsed: 0.001, interval: '20ms' },
      upstreams: [{ name: 'fast', targets: [{ url: fast.url }] }],
      routes: [
        {
          name: 'all',
          match: { paths: ['/*'] },
          upstream: 'fast',
          priorityClass: { header: 'x-class', values: { gold: 'critical', batch: 'low' } },
          plugins: { 'vip-class': {} },
        },
      ],
    }, [vipPlugin]);
  });
  after(async () => {
    await gw.close();
    await fast.close();
  });

  it('sheds low-priority traffic with 503 SLUICE_ERR_OVERLOADED and still serves critical traffic', async () => {
    await waitFor('overload detected', async () => (await request(`${gw.url}/x`)).status === 503);
    const low = await request(`${gw.url}/x`, { headers: { 'x-class': 'batch' } });
    assert.equal(low.status, 503);
    assert.equal(codeOf(low), 'SLUICE_ERR_OVERLOADED');
    assert.equal((await request(`${gw.url}/x`)).status, 503, 'normal (the default class) is below "high"');
    const gold = await request(`${gw.url}/x`, { headers: { 'x-class': 'gold' } });
    assert.equal(gold.status, 200);
    assert.equal(gold.body, 'fast');
    assert.equal((await request(`${gw.url}/x?vip=1`)).status, 200, 'a plugin-set ctx.state.priorityClass counts');
    assert.equal((await request(`${gw.url}/x?vip=1`, { headers: { 'x-class': 'batch' } })).status, 200, 'and wins over the header');
    assert.ok(gw.logs.some((l) => l.msg === 'overloaded: shedding low-priority traffic'));
  });
});
