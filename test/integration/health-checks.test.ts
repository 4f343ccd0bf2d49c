import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createGateway, type Gateway } from '../../src/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import * as grpc from '@grpc/grpc-js';
import { startCli, stopCli } from '../helpers/cli.ts';
import { deserializeReply, EchoClient, echoService, serializeRequest, type EchoReply, type EchoRequest } from '../helpers/grpc.ts';
import { parseMetrics, sumOf } from '../helpers/prom.ts';
import { request, startGateway, startUpstream, type TestGateway, type TestServer } from '../helpers/servers.ts';
import { waitFor } from '../helpers/wait.ts';

const TOKEN = 'operator-token-health';

/** An upstream answering /healthz with a switchable status, and `x-which: name` on everything else. */
async function backend(name: string) {
  const state = { status: 200, body: '{"status":"ok"}', checks: 0, inflight: 0, hold: undefined as Promise<void> | undefined };
  const server: TestServer = await startUpstream((req, res) => {
    if (req.url === '/healthz') {
      state.checks++;
      return res.writeHead(state.status, { 'x-host-seen': req.headers.host ?? '' }).end(state.body);
    }
    state.inflight++;
    const answer = () => {
      state.inflight--;
      res.writeHead(200, { 'x-which': name }).end(name);
    };
    if (req.url === '/hold' && state.hold !== undefined) void state.hold.then(answer);
    else answer();
  });
  return { name, server, state, url: server.url };
}


describe('active health checks', () => {
  const backs: Array<Awaited<ReturnType<typeof backend>>> = [];
  let gateway: Gateway;
  let proxy = '';
  let admin = '';
  let stateDir = '';

  const config = (panicThreshold: number, healthCheck: Record<string, unknown> = {}) => ({
    listeners: [{ name: 'public', host: '127.0.0.1', port: 0 }],
    admin: { host: '127.0.0.1', port: 0, tokens: [{ name: 'otto', role: 'operator', token: TOKEN }] },
    upstreams: [
      {
        name: 'app',
        targets: backs.map((b) => ({ url: b.url })),
        panicThreshold,
        healthCheck: { type: 'http', path: '/healthz', interval: '50ms', jitter: '10ms', timeout: '1s', healthyThreshold: 2, unhealthyThreshold: 2, body: { contains: 'ok' }, host: 'health.internal', ...healthCheck },
      },
    ],
    routes: [{ name: 'all', match: { paths: ['/*'] }, upstream: 'app' }],
  });
  const adminCall = (method: string, path: string, body?: unknown) =>
    request(`${admin}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const targetsView = async () => JSON.parse((await adminCall('GET', '/admin/upstreams/app')).body).targets as Array<{ url: string; available: boolean; health: { reason: string | null; active: string; routable: boolean; override: string | null } }>;
  const available = () => gateway.current().upstreams.get('app')!.targets.map((t) => t.available);
  const served = async (n: number) => {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const res = await request(`${proxy}/x`);
      assert.equal(res.status, 200, res.body);
      seen.add(String(res.headers['x-which']));
    }
    return [...seen].sort();
  };

  before(async () => {
    backs.push(await backend('a'), await backend('b'), await backend('c'));
    stateDir = await mkdtemp(join(tmpdir(), 'sluice-health-'));
    gateway = await createGateway(config(0), { logger: createLogger({ level: 'silent' }), accessLogSink: { write() {} }, stateDir });
    await gateway.start();
    proxy = `http://127.0.0.1:${[...gateway.addresses().values()][0]!.port}`;
    admin = `http://127.0.0.1:${gateway.adminAddress()!.port}`;
  });
  after(async () => {
    await gateway.stop({ deadlineMs: 1000 });
    for (const b of backs) await b.server.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('checks run at once on start: every target passes its first check and takes traffic', async () => {
    await waitFor('all healthy', () => available().every(Boolean));
    assert.deepEqual(await served(6), ['a', 'b', 'c']);
    const view = await targetsView();
    assert.deepEqual(view.map((t) => [t.health.active, t.health.reason]), [['healthy', null], ['healthy', null], ['healthy', null]]);
  });

  it('a failing check (status, then body) takes a target out after unhealthyThreshold; passing brings it back', async () => {
    backs[1]!.state.status = 500;
    await waitFor('b unhealthy', () => available()[1] === false);
    assert.deepEqual(await served(6), ['a', 'c']);
    const b = (await targetsView())[1]!;
    assert.deepEqual([b.available, b.health.active, b.health.reason], [false, 'unhealthy', 'active']);
    backs[1]!.state.status = 200;
    await waitFor('b healthy again', () => available()[1] === true);
    backs[2]!.state.body = 'degraded';
    await waitFor('c unhealthy on body', () => available()[2] === false);
    backs[2]!.state.body = 'ok';
    await waitFor('c healthy again', () => available()[2] === true);
    assert.deepEqual(await served(6), ['a', 'b', 'c']);
  });

  it('exports the results as metrics', async () => {
    const text = (await request(`${admin}/metrics`)).body;
    const m = parseMetrics(text);
    assert.equal(sumOf(m, 'sluice_upstream_target_healthy', { upstream: 'app' }), 3);
    assert.ok(sumOf(m, 'sluice_health_checks_total', { upstream: 'app', result: 'pass' }) > 3);
    assert.ok(sumOf(m, 'sluice_health_checks_total', { upstream: 'app', result: 'fail' }) >= 4);
    assert.ok(sumOf(m, 'sluice_health_check_duration_seconds_count', { upstream: 'app' }) > 0);
  });

  it('no routable target (panic off) → 503 SLUICE_ERR_NO_HEALTHY_UPSTREAM; with a panic threshold all are used', async () => {
    for (const b of backs) b.state.status = 503;
    await waitFor('all unhealthy', () => available().every((a) => !a));
    const res = await request(`${proxy}/x`);
    assert.equal(res.status, 503);
    assert.equal(JSON.parse(res.body).code, 'SLUICE_ERR_NO_HEALTHY_UPSTREAM');
    // Reload with panic mode: the same (unchanged) targets keep their results, so panic applies at once.
    const checksBefore = backs[0]!.state.checks;
    const outcome = await gateway.reload(config(50));
    assert.equal(outcome.ok, true);
    assert.deepEqual(available(), [true, true, true]);
    assert.deepEqual((await targetsView()).map((t) => t.health.reason), ['panic', 'panic', 'panic']);
    assert.deepEqual(await served(6), ['a', 'b', 'c']);
    for (const b of backs) b.state.status = 200;
    await waitFor('healthy again', async () => (await targetsView()).every((t) => t.health.reason === null));
    assert.ok(backs[0]!.state.checks > checksBefore);
  });

  it('checks send the configured host; a removed target is no longer checked', async () => {
    const seen = await request(`${backs[0]!.url}/healthz`);
    assert.equal(seen.status, 200);
    const probe = await new Promise<string>((resolve) => {
      const s = backs[0]!.server.server;
      s.once('request', (req) => req.url === '/healthz' && resolve(req.headers.host ?? ''));
    });
    assert.equal(probe, 'health.internal');
    const removed = backs.pop()!;
    try {
      assert.equal((await gateway.reload(config(0))).ok, true);
      const count = removed.state.checks;
      // Several intervals of the remaining targets' checks, none for the removed one.
      const a = backs[0]!.state.checks;
      await waitFor('more checks of a', () => backs[0]!.state.checks >= a + 4);
      assert.ok(removed.state.checks <= count + 1, 'at most a check already in flight');
    } finally {
      backs.push(removed);
      assert.equal((await gateway.reload(config(0))).ok, true);
    }
  });

  it('a new target with checks configured is not routable until its first check passes (panic off)', async () => {
    const extra = await backend('d');
    extra.state.status = 500;
    backs.push(extra);
    try {
      assert.equal((await gateway.reload(config(0))).ok, true);
      await waitFor('d checked', () => extra.state.checks >= 2);
      assert.equal(available()[3], false);
      assert.deepEqual(await served(6), ['a', 'b', 'c']);
      extra.state.status = 200;
      await waitFor('d routable', () => available()[3] === true);
    } finally {
      backs.pop();
      assert.equal((await gateway.reload(config(0))).ok, true);
      await extra.server.close();
    }
  });

  it('tcp checks: a target whose port is closed is out', async () => {
    const gone = await backend('gone');
    await gone.server.close();
    const cfg = config(0, { type: 'tcp' });
    cfg.upstreams[0]!.targets.push({ url: gone.url });
    assert.equal((await gateway.reload(cfg)).ok, true);
    await waitFor('tcp results', async () => {
      const v = await targetsView();
      return v.length === 4 && v.every((t) => t.health.active !== 'unknown');
    });
    assert.deepEqual(available(), [true, true, true, false]);
    assert.deepEqual(await served(6), ['a', 'b', 'c']);
    assert.equal((await gateway.reload(config(0))).ok, true);
  });

  it('admin overrides: up beats failing checks, down and drained take a target out, auto clears', async () => {
    backs[0]!.state.status = 500;
    await waitFor('a unhealthy', () => available()[0] === false);
    const up = await adminCall('PUT', '/admin/upstreams/app/targets/health', { url: backs[0]!.url, state: 'up' });
    assert.equal(up.status, 200, up.body);
    assert.equal(available()[0], true);
    const a = (await targetsView())[0]!;
    assert.deepEqual([a.health.override, a.health.reason, a.health.active], ['up', 'override', 'unhealthy']);
    assert.equal((await adminCall('PUT', '/admin/upstreams/app/targets/health', { url: backs[0]!.url, state: 'auto' })).status, 200);
    assert.equal(available()[0], false);
    backs[0]!.state.status = 200;
    await waitFor('a healthy', () => available()[0] === true);
  });

  it('drained: no new requests, but a request in flight on the target finishes', async () => {
    let release!: () => void;
    backs[0]!.state.hold = new Promise<void>((r) => (release = r));
    // Round robin: send until one request is held on a.
    const pending: Array<Promise<{ status: number; headers: Record<string, unknown> }>> = [];
    for (let i = 0; i < 3; i++) pending.push(request(`${proxy}/hold`));
    await waitFor('a holds a request', () => backs[0]!.state.inflight === 1);
    const drained = await adminCall('PUT', '/admin/upstreams/app/targets/health', { url: backs[0]!.url, state: 'drained' });
    assert.equal(drained.status, 200, drained.body);
    assert.equal((await targetsView())[0]!.health.override, 'drained');
    assert.deepEqual(await served(6), ['b', 'c']);
    release();
    const results = await Promise.all(pending);
    assert.deepEqual(results.map((r) => r.status), [200, 200, 200]);
    assert.ok(results.some((r) => r.headers['x-which'] === 'a'), 'the in-flight request on the drained target completed');
    backs[0]!.state.hold = undefined;
    assert.equal((await adminCall('PUT', '/admin/upstreams/app/targets/health', { url: backs[0]!.url, state: 'auto' })).status, 200);
    assert.deepEqual(await served(6), ['a', 'b', 'c']);
  });
});

describe('active health checks with --workers 2: run once in the primary, results broadcast', { timeout: 60_000 }, () => {
  let dir = '';
  const backs: Array<Awaited<ReturnType<typeof backend>>> = [];
  let child: import('node:child_process').ChildProcess | undefined;
  let output = () => '';
  let url = '';
  let adminUrl = '';
  const auth = { authorization: `Bearer ${TOKEN}-workers-0123456789` };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-health-workers-'));
    backs.push(await backend('a'), await backend('b'));
    const file = join(dir, 'sluice.yaml');
    await writeFile(
      file,
      [
        'listeners: [{ name: public, host: 127.0.0.1, port: 0 }]',
        `admin: { host: 127.0.0.1, port: 0, stateDir: ${JSON.stringify(join(dir, 'state'))}, tokens: [{ name: ada, role: admin, token: ${auth.authorization.slice(7)} }] }`,
        'shutdown: { drainDelay: 0s, deadline: 5s }',
        'observability: { accessLog: false }',
        `upstreams: [{ name: app, panicThreshold: 0, targets: [${backs.map((b) => `{ url: "${b.url}" }`).join(', ')}],`,
        '  healthCheck: { type: http, path: /healthz, interval: 100ms, jitter: 0ms, healthyThreshold: 1, unhealthyThreshold: 1 } }]',
        'routes: [{ name: all, match: { paths: ["/*"] }, upstream: app }]',
        '',
      ].join('\n'),
    );
    const cli = await startCli(['start', '-c', file, '--no-watch', '--workers', '2'], {}, /"msg":"workers started"/);
    child = cli.child;
    output = cli.output;
    const out = output();
    url = `http://127.0.0.1:${/"port":(\d+)[^\n]*"msg":"listener started"/.exec(out)![1]}`;
    adminUrl = `http://127.0.0.1:${/"port":(\d+)\}[^\n]*"msg":"admin listener started"/.exec(out)![1]}`;
  });
  after(async () => {
    if (child !== undefined) await stopCli(child);
    for (const b of backs) await b.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const admin = async (path: string) => JSON.parse((await request(`${adminUrl}${path}`, { headers: auth })).body);
  /** `n` requests, each on its own connection (so cluster spreads them over both workers). */
  const seen = async (n: number) => {
    const got = await Promise.all(Array.from({ length: n }, () => request(`${url}/x`)));
    assert.deepEqual(got.map((r) => r.status), new Array(n).fill(200));
    return [...new Set(got.map((r) => String(r.headers['x-which'])))].sort();
  };
  const active = async () => ((await admin('/admin/upstreams/app')).targets as Array<{ health: { active: string } }>).map((t) => t.health.active);

  it('every worker follows the primary\'s results, including a replacement worker', async () => {
    await waitFor('both healthy', async () => (await active()).join() === 'healthy,healthy');
    await waitFor('both used', async () => (await seen(20)).join() === 'a,b');
    backs[1]!.state.status = 500;
    await waitFor('b unhealthy in the primary', async () => (await active()).join() === 'healthy,unhealthy');
    await waitFor('workers told', async () => (await seen(10)).join() === 'a');
    assert.deepEqual(await seen(30), ['a']);
    // Only the primary checks and logs transitions (worker log lines carry a `worker` field).
    const lines = output().split('\n').filter((l) => l.includes('"msg":"target failed its health checks"'));
    assert.ok(lines.length >= 1, 'transition logged');
    assert.ok(lines.every((l) => !l.includes('"worker":')), lines.join('\n'));
    // A replacement worker starts with the current results.
    const workers = (await admin('/admin/workers')).workers as Array<{ pid: number; status: string }>;
    process.kill(workers[0]!.pid, 'SIGKILL');
    await waitFor('replacement up', async () => {
      const now = (await admin('/admin/workers')).workers as Array<{ pid: number; status: string }>;
      return now.length === 2 && now.every((w) => w.status === 'up') && !now.some((w) => w.pid === workers[0]!.pid);
    }, 20_000);
    assert.deepEqual(await seen(30), ['a']);
    backs[1]!.state.status = 200;
    await waitFor('b used again', async () => (await seen(20)).join() === 'a,b');
  });
});

describe('gRPC health checks (grpc.health.v1.Health/Check on h2c targets)', () => {
  const servers: Array<{ name: string; server: grpc.Server; url: string; serving: { status: number } }> = [];
  let gw: TestGateway;
  let client: InstanceType<typeof EchoClient>;

  async function grpcBackend(name: string) {
    const server = new grpc.Server();
    const serving = { status: 1 };
    const raw = (b: Buffer) => b;
    const method = { path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw };
    server.addService({ Check: method }, { Check: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from([0x08, serving.status])) });
    server.addService(echoService, {
      Unary: (call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) =>
        cb(null, { message: call.request.message ?? '', index: 0, payload: Buffer.alloc(0), server: name, deadline: '' }),
    });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    return { name, server, url: `h2c://127.0.0.1:${port}`, serving };
  }

  before(async () => {
    servers.push(await grpcBackend('g1'), await grpcBackend('g2'));
    servers[1]!.serving.status = 2; // NOT_SERVING
    gw = await startGateway({
      upstreams: [
        {
          name: 'grpc',
          targets: servers.map((s) => ({ url: s.url })),
          panicThreshold: 0,
          healthCheck: { type: 'grpc', interval: '50ms', jitter: '0ms', healthyThreshold: 1, unhealthyThreshold: 1 },
        },
      ],
      routes: [{ name: 'echo', match: { paths: ['/sluice.test.Echo/*'] }, upstream: 'grpc' }],
    });
    client = new EchoClient(`127.0.0.1:${gw.port}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    client.close();
    await gw.close();
    for (const s of servers) s.server.forceShutdown();
  });

  const call = () =>
    new Promise<string>((resolve, reject) =>
      client.makeUnaryRequest('/sluice.test.Echo/Unary', serializeRequest, deserializeReply, { message: 'hi' }, (e: grpc.ServiceError | null, r?: EchoReply) => (e ? reject(e) : resolve(r!.server))),
    );
  const available = () => gw.gateway.current().upstreams.get('grpc')!.targets.map((t) => t.available);

  it('a NOT_SERVING target gets no calls; SERVING again brings it back', async () => {
    await waitFor('g1 checked healthy, g2 unhealthy', () => available().join() === 'true,false');
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add(await call());
    assert.deepEqual([...seen], ['g1']);
    servers[1]!.serving.status = 1;
    await waitFor('g2 healthy', () => available().join() === 'true,true');
    for (let i = 0; i < 6; i++) seen.add(await call());
    assert.deepEqual([...seen].sort(), ['g1', 'g2']);
    const logged = gw.logs.find((l) => l.msg === 'target passed its health checks' && l.target === servers[1]!.url);
    assert.ok(logged, 'transition logged');
  });
});
