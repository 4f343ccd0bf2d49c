import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { definePlugin } from '../../src/plugins/types.ts';
import { retryBudgetFor, setBackoffRandom } from '../../src/upstream/retry.ts';
import { startCli, stopCli } from '../helpers/cli.ts';
import { h2Connect, h2Request } from '../helpers/h2.ts';
import { EchoClient, startGrpcServer, type EchoReply, type EchoRequest, type GrpcTestServer } from '../helpers/grpc.ts';
import { parseMetrics, sumOf } from '../helpers/prom.ts';
import { request, startEchoUpstream, startGateway, startUpstream, type TestGateway, type TestServer } from '../helpers/servers.ts';

/**
 * Retries, budgets and deadlines end to end: real upstreams on 127.0.0.1, some refusing
 * connections (a port closed a moment ago), some answering 503, some never answering.
 */

/** A port that was open a moment ago and is closed now: connections are refused. */
async function deadUrl(): Promise<string> {
  const s = await startUpstream(() => undefined);
  await s.close();
  return s.url;
}

/** An upstream that counts requests and answers `status` after reading the body (and `delayMs`). */
async function counting(status: number, delayMs = 0): Promise<TestServer & { hits: number; bodies: string[] }> {
  const state = { hits: 0, bodies: [] as string[] };
  const server = await startUpstream((req, res) => {
    state.hits++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.bodies.push(Buffer.concat(chunks).toString('utf8'));
      setTimeout(() => res.writeHead(status, { 'x-from': String(status) }).end(String(status)), delayMs);
    });
  });
  return Object.assign(state, server);
}

/** Records the status of every response onResponse sees: retried attempts must not show up. */
const seenStatuses: number[] = [];
const responseRecorder = definePlugin({
  name: 'response-recorder',
  priority: 100,
  schema: Type.Object({}),
  create() {
    return {
      onResponse(_ctx, response) {
        seenStatuses.push(response.status);
      },
    };
  },
});

const post = (url: string, body: string, headers: http.OutgoingHttpHeaders = {}) =>
  request(url, { method: 'POST', headers: { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), ...headers }, body });

describe('retries', () => {
  let echo: TestServer;
  let dead: string;
  let failing: Awaited<ReturnType<typeof counting>>;
  let gw: TestGateway;

  before(async () => {
    echo = await startEchoUpstream();
    dead = await deadUrl();
    failing = await counting(503);
    gw = await startGateway({
      upstreams: [
        // Outlier ejection (on by default) would take the bad target out after 5 failures; these
        // tests are about retries, so every request must still meet it.
        { name: 'half-dead', targets: [{ url: dead }, { url: echo.url }], outlierDetection: { enabled: false } },
        { name: 'half-503', targets: [{ url: failing.url }, { url: echo.url }], outlierDetection: { enabled: false } },
      ],
      routes: [
        // No retry policy: the default (one retry on another target when the connection failed).
        { name: 'default', match: { paths: ['/default/*'] }, upstream: 'half-dead' },
        {
          name: 'on-503',
          match: { paths: ['/503/*'] },
          upstream: 'half-503',
          retry: { attempts: 1, on: ['503'], backoff: { base: '1ms', max: '5ms' } },
          plugins: { 'response-recorder': {} },
        },
        {
          name: 'post-ok',
          match: { paths: ['/post-ok/*'] },
          upstream: 'half-503',
          retry: { attempts: 1, on: ['gateway-error'], allowNonIdempotent: true, maxReplayBody: '1kb', backoff: { base: '1ms' } },
        },
      ],
    }, [responseRecorder]);
  });

  after(async () => {
    await gw.close();
    await echo.close();
    await failing.close();
  });

  it('connect failure on one of two targets: GET and POST (never sent) succeed on the other, body intact', async () => {
    for (let i = 0; i < 6; i++) {
      const r = await request(`${gw.url}/default/get${i}`);
      assert.equal(r.status, 200, r.body);
      const p = await post(`${gw.url}/default/post${i}`, `payload-${i}`);
      assert.equal(p.status, 200, p.body);
      assert.equal(JSON.parse(p.body).body, `payload-${i}`);
    }
    const retried = gw.logs.filter((l) => l.kind === 'access' && l.attempts === 2);
    assert.ok(retried.length >= 6, `access log shows the retried requests (${retried.length})`);
    assert.ok(retried.every((l) => l.status === 200 && l.errorCode === undefined));
  });

  it('HTTP/2 clients: a POST body streamed in frames is replayed to the other target', async () => {
    const session = await h2Connect(gw.url);
    try {
      for (let i = 0; i < 4; i++) {
        const parts = [Buffer.from(`part-${i}-a;`), Buffer.from(`part-${i}-b`)];
        const r = await h2Request(session, { ':method': 'POST', ':path': `/post-ok/h2-${i}` }, parts);
        assert.equal(r.status, 200, r.body.toString());
        assert.equal(JSON.parse(r.body.toString()).body, `part-${i}-a;part-${i}-b`);
      }
    } finally {
      session.close();
    }
  });

  it('503 is retried per policy on the other target', async () => {
    const before = failing.hits;
    seenStatuses.length = 0;
    // Every attempt is one outcome for its target (passive health and breakers listen there).
    const targets = gw.gateway.current().upstreams.get('half-503')!.targets;
    const outcomes = targets.map(() => [] as string[]);
    targets.forEach((t, i) => t.observers.push({ onOutcome: (o) => outcomes[i]!.push(o.kind) }));
    for (let i = 0; i < 4; i++) assert.equal((await request(`${gw.url}/503/x${i}`)).status, 200);
    const tried = failing.hits - before;
    assert.ok(tried >= 2, 'the failing target was tried');
    assert.deepEqual(seenStatuses, [200, 200, 200, 200], 'onResponse ran once per request, on the final response only');
    assert.deepEqual(outcomes[0], new Array(tried).fill('server-error'));
    assert.deepEqual(outcomes[1], new Array(4).fill('success'));
    assert.deepEqual(targets.map((t) => t.inflight), [0, 0]);
    targets.forEach((t) => t.observers.pop());
  });

  it('a POST with a body is not retried after it was sent, unless the route allows it: then replayed with the same body', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(`${gw.url}/503/p${i}`, 'not-idempotent')).status);
    assert.ok(statuses.includes(503), `some POSTs hit the 503 target and were not retried: ${statuses}`);
    const before = failing.hits;
    for (let i = 0; i < 4; i++) {
      const r = await post(`${gw.url}/post-ok/p${i}`, `replay-${i}`);
      assert.equal(r.status, 200);
      assert.equal(JSON.parse(r.body).body, `replay-${i}`, 'the retry carried the same body');
    }
    assert.ok(failing.hits - before >= 2);
    assert.ok(failing.bodies.includes('replay-0') || failing.bodies.includes('replay-1'), 'the first attempt sent the body too');
  });

  it('a body over maxReplayBody is streamed and not retried (declared length and chunked)', async () => {
    const big = 'x'.repeat(4096);
    const declared: number[] = [];
    for (let i = 0; i < 4; i++) declared.push((await post(`${gw.url}/post-ok/big${i}`, big)).status);
    assert.ok(declared.includes(503), `declared-length bodies over the limit: ${declared}`);
    const chunked: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await request(`${gw.url}/post-ok/chunked${i}`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' }, body: big });
      chunked.push(r.status);
      if (r.status === 200) assert.equal(JSON.parse(r.body).body.length, 4096, 'streamed whole');
    }
    assert.ok(chunked.includes(503), `chunked bodies over the limit: ${chunked}`);
  });
});

describe('retry budget', () => {
  let a: Awaited<ReturnType<typeof counting>>;
  let b: Awaited<ReturnType<typeof counting>>;
  let gw: TestGateway;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-retries-'));
    a = await counting(503, 150);
    b = await counting(503, 150);
    gw = await startGateway({
      admin: { host: '127.0.0.1', port: 0, stateDir: dir },
      upstreams: [{ name: 'storm', targets: [{ url: a.url }, { url: b.url }] }],
      routes: [
        {
          name: 'storm',
          match: { paths: ['/*'] },
          upstream: 'storm',
          retry: { attempts: 3, on: ['503'], backoff: { base: '1ms', max: '2ms' }, budget: { ratio: 0.2, minConcurrency: 1 } },
        },
      ],
    });
  });

  after(async () => {
    await gw.close();
    await a.close();
    await b.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('caps a retry storm: far fewer upstream attempts than requests × (1 + retries)', async () => {
    const n = 30;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => request(`${gw.url}/r${i}`)));
    assert.ok(results.every((r) => r.status === 503));
    const attempts = a.hits + b.hits;
    // Unbounded: 4 × 30 = 120. The budget allows ~20 % of 30 in flight, then fewer as requests end.
    assert.ok(attempts > n, `some retries happened (${attempts})`);
    assert.ok(attempts <= n * 2, `the budget capped retries: ${attempts} attempts for ${n} requests`);
    const m = parseMetrics((await request(`http://127.0.0.1:${gw.gateway.adminAddress()!.port}/metrics`)).body);
    assert.equal(sumOf(m, 'sluice_upstream_retries_total', { upstream: 'storm', reason: '503' }), attempts - n);
    assert.ok(sumOf(m, 'sluice_upstream_retry_budget_exhausted_total', { upstream: 'storm' }) > 0);
    // Every attempt, retried or not, gave its target back: nothing is left in flight.
    assert.equal(sumOf(m, 'sluice_upstream_target_in_flight', { upstream: 'storm' }), 0);
  });
});

describe('client abort during a retry backoff', () => {
  let failing: Awaited<ReturnType<typeof counting>>;
  let gw: TestGateway;

  before(async () => {
    failing = await counting(503);
    // The longest wait the policy allows, every time: the backoff is certainly running when the client leaves.
    setBackoffRandom(() => 0.999);
    gw = await startGateway({
      upstreams: [{ name: 'lonely', targets: [{ url: failing.url }] }],
      routes: [{ name: 'slow-retry', match: { paths: ['/*'] }, upstream: 'lonely', retry: { attempts: 1, on: ['503'], backoff: { base: '1s', max: '1s' } } }],
    });
  });

  after(async () => {
    setBackoffRandom(undefined);
    await gw.close();
    await failing.close();
  });

  it('cancels the pending retry: no second attempt, budget slot and in-flight count given back', async () => {
    const req = http.request(`${gw.url}/leave`, { agent: false });
    req.on('error', () => {});
    req.end();
    const deadline = Date.now() + 5000;
    while (failing.hits === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(failing.hits, 1, 'first attempt answered 503');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(retryBudgetFor('lonely').retrying, 1, 'the retry is waiting in its backoff');
    req.destroy();
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(failing.hits, 1, 'the retry never started');
    assert.equal(retryBudgetFor('lonely').retrying, 0);
    assert.equal(retryBudgetFor('lonely').active, 0);
  });
});

describe('deadlines', () => {
  let hang: TestServer & { hits: number };
  let echo: TestServer;
  let gw: TestGateway;

  before(async () => {
    const state = { hits: 0 };
    const server = await startUpstream((req) => {
      state.hits++;
      req.resume();
    });
    hang = Object.assign(state, server);
    echo = await startEchoUpstream();
    gw = await startGateway({
      upstreams: [
        { name: 'hang', targets: [{ url: hang.url }, { url: hang.url + '/' }], timeouts: { response: '250ms' } },
        { name: 'echo', targets: [{ url: echo.url }] },
      ],
      routes: [
        { name: 'deadline', match: { paths: ['/hang'] }, upstream: 'hang', timeouts: { deadline: '400ms' }, retry: { attempts: 5, on: ['timeout'], backoff: { base: '1ms' } } },
        { name: 'echo-deadline', match: { paths: ['/echo/deadline'] }, upstream: 'echo', timeouts: { deadline: '2s' } },
        { name: 'echo', match: { paths: ['/echo/*'] }, upstream: 'echo' },
      ],
    });
  });

  after(async () => {
    await gw.close();
    await hang.close();
    await echo.close();
  });

  it('the route deadline covers all attempts: 504 SLUICE_ERR_DEADLINE_EXCEEDED', async () => {
    const r = await request(`${gw.url}/hang`);
    assert.equal(r.status, 504);
    assert.equal(JSON.parse(r.body).code, 'SLUICE_ERR_DEADLINE_EXCEEDED');
    // 250 ms per attempt within 400 ms: at most two attempts, not the six the policy would allow.
    assert.ok(hang.hits >= 1 && hang.hits <= 2, `attempts ${hang.hits}`);
  });

  it('X-Request-Timeout: the smaller of it and the route deadline, remaining budget passed upstream', async () => {
    const own = JSON.parse((await request(`${gw.url}/echo/deadline`)).body).headers['x-request-timeout'];
    assert.ok(Number(own) > 0 && Number(own) <= 2000, `route deadline propagated: ${own}`);
    const asked = JSON.parse((await request(`${gw.url}/echo/deadline`, { headers: { 'x-request-timeout': '700' } })).body).headers['x-request-timeout'];
    assert.ok(Number(asked) > 0 && Number(asked) <= 700, `client deadline propagated: ${asked}`);
    const larger = JSON.parse((await request(`${gw.url}/echo/deadline`, { headers: { 'x-request-timeout': '99999' } })).body).headers['x-request-timeout'];
    assert.ok(Number(larger) <= 2000, `route deadline wins when smaller: ${larger}`);
    const noRoute = JSON.parse((await request(`${gw.url}/echo/x`, { headers: { 'x-request-timeout': '1500' } })).body).headers['x-request-timeout'];
    assert.ok(Number(noRoute) > 0 && Number(noRoute) <= 1500, `honoured without a route deadline: ${noRoute}`);
  });

  it('an incoming X-Request-Timeout is enforced: 504 when the upstream is slower', async () => {
    const r = await request(`${gw.url}/hang`, { headers: { 'x-request-timeout': '100' } });
    assert.equal(r.status, 504);
    assert.equal(JSON.parse(r.body).code, 'SLUICE_ERR_DEADLINE_EXCEEDED');
  });
});

type Unary = (req: EchoRequest, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: EchoReply) => void) => grpc.ClientUnaryCall;

describe('gRPC: deadline and status retries', () => {
  let server: GrpcTestServer;
  let unavailable: http2.Http2Server;
  let unavailableHits = 0;
  let gw: TestGateway;
  let client: grpc.Client & { Unary: Unary };

  before(async () => {
    server = await startGrpcServer('deadline');
    // A gRPC server that answers every call trailers-only UNAVAILABLE (grpc-status in the head).
    unavailable = http2.createServer((req, res) => {
      unavailableHits++;
      req.resume();
      res.writeHead(200, { 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': 'down' });
      res.end();
    });
    await new Promise<void>((resolve) => unavailable.listen(0, '127.0.0.1', resolve));
    const down = `h2c://127.0.0.1:${(unavailable.address() as AddressInfo).port}`;
    gw = await startGateway({
      upstreams: [
        { name: 'grpc', targets: [{ url: server.url }] },
        { name: 'flaky', targets: [{ url: down }, { url: server.url }] },
      ],
      routes: [
        { name: 'echo', match: { paths: ['/sluice.test.Echo/*'], headers: [{ name: 'x-flaky', present: false }] }, upstream: 'grpc', timeouts: { deadline: '2s' } },
        { name: 'flaky', match: { paths: ['/sluice.test.Echo/*'], headers: [{ name: 'x-flaky', present: true }] }, upstream: 'flaky', retry: { on: ['grpc-unavailable'] } },
      ],
    });
    client = new EchoClient(`127.0.0.1:${gw.port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & { Unary: Unary };
  });

  after(async () => {
    client.close();
    await gw.close();
    await server.close();
    await new Promise<void>((resolve) => unavailable.close(() => resolve()));
  });

  it('a trailers-only UNAVAILABLE is retried on the other target when the route lists grpc-unavailable', async () => {
    const md = new grpc.Metadata();
    md.set('x-flaky', '1');
    for (let i = 0; i < 4; i++) {
      await new Promise<void>((resolve, reject) =>
        client.Unary({ message: `m${i}` }, md, { deadline: Date.now() + 5000 }, (err) => (err === null ? resolve() : reject(err))),
      );
    }
    assert.ok(unavailableHits >= 2, `the UNAVAILABLE target was tried (${unavailableHits})`);
  });

  const call = (deadlineMs: number) =>
    new Promise<void>((resolve, reject) =>
      client.Unary({ message: 'hi' }, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err) => (err === null ? resolve() : reject(err))),
    );

  it('the upstream sees the smaller of grpc-timeout and the route deadline, minus time spent', async () => {
    await call(10_000);
    assert.ok(server.lastDeadlineMs !== undefined && server.lastDeadlineMs <= 2000, `route deadline: ${server.lastDeadlineMs}`);
    await call(800);
    assert.ok(server.lastDeadlineMs !== undefined && server.lastDeadlineMs <= 800, `client deadline: ${server.lastDeadlineMs}`);
  });
});

describe('defaults via sluice proxy', () => {
  let echo: TestServer;

  before(async () => {
    echo = await startEchoUpstream();
  });

  after(async () => {
    await echo.close();
  });

  it('one dead target of two: zero failed GETs', async () => {
    const dead = await deadUrl();
    const { child, output } = await startCli(['proxy', '--listen', '0', '--host', '127.0.0.1', '--to', dead, '--to', echo.url], {}, /listener started/);
    try {
      const port = Number(/"port":(\d+)[^\n]*"msg":"listener started"/.exec(output())![1]);
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await request(`http://127.0.0.1:${port}/p${i}`)).status);
      assert.deepEqual(statuses, new Array(10).fill(200));
    } finally {
      assert.equal(await stopCli(child), 0);
    }
  });
});
