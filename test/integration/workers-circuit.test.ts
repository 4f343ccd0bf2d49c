import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCli, stopCli } from '../helpers/cli.ts';
import { request, startUpstream, type TestServer } from '../helpers/servers.ts';
import { until } from '../helpers/wait.ts';

const TOKEN = 'workers-circuit-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

interface WorkerInfo {
  pid: number;
  status: string;
  version: number;
}

interface Circuit {
  state: string;
  forced: string | null;
  retryAfterMs: number;
  byWorker: { open: number; 'half-open': number; closed: number };
  workers: number;
}

interface UpstreamView {
  name: string;
  circuit: Circuit | null;
  targets: Array<{ url: string; circuit: Circuit | null }>;
}


describe('circuit breakers with --workers 2 (forced from the primary\'s admin API)', { timeout: 90_000 }, () => {
  let dir: string;
  let upstream: TestServer;
  let file: string;
  let child: ChildProcess | undefined;
  let url: string;
  let adminUrl: string;

  const admin = async (path: string, method = 'GET', body?: unknown) => {
    const res = await request(`${adminUrl}${path}`, {
      method,
      headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: JSON.parse(res.body) };
  };
  const upstreams = async (): Promise<Map<string, UpstreamView>> => new Map(((await admin('/admin/upstreams')).body.upstreams as UpstreamView[]).map((u) => [u.name, u]));
  const workers = async (): Promise<WorkerInfo[]> => (await admin('/admin/workers')).body.workers;
  /** `n` requests, each on its own connection (so cluster spreads them over both workers): status and error code. */
  const outcomes = async (path: string, n: number) =>
    Promise.all(
      Array.from({ length: n }, async () => {
        const res = await request(`${url}${path}`);
        return res.status === 200 ? '200' : `${res.status} ${JSON.parse(res.body).code}`;
      }),
    );

  /** `window`: the breaker's window (a new window length builds new breakers in the workers on reload). */
  const writeConfig = (window: string) =>
    writeFile(
      file,
      [
        'listeners: [{ name: public, host: 127.0.0.1, port: 0 }]',
        `admin: { host: 127.0.0.1, port: 0, stateDir: ${JSON.stringify(join(dir, 'state'))}, tokens: [{ name: ada, role: admin, token: ${TOKEN} }] }`,
        'shutdown: { drainDelay: 0s, deadline: 10s }',
        'observability: { accessLog: false }',
        'upstreams:',
        // Thresholds no test traffic reaches: only the operator moves this breaker.
        `  - { name: app, targets: [{ url: "${upstream.url}" }], circuitBreaker: { window: ${window}, minRequests: 1000, openDuration: 30s } }`,
        `  - { name: plain, targets: [{ url: "${upstream.url}" }] }`,
        'routes:',
        '  - { name: api, match: { paths: ["/api/*"] }, upstream: app }',
        '  - { name: other, match: { paths: ["/other/*"] }, upstream: plain }',
        '',
      ].join('\n'),
    );

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-workers-circuit-'));
    file = join(dir, 'sluice.yaml');
    upstream = await startUpstream((req, res) => res.end(`ok ${req.url}`));
    await writeConfig('10s');
    const cli = await startCli(['start', '-c', file, '--no-watch', '--workers', '2'], {}, /"msg":"workers started"/);
    child = cli.child;
    const out = cli.output();
    url = `http://127.0.0.1:${/"port":(\d+)[^\n]*"msg":"listener started"/.exec(out)![1]}`;
    adminUrl = `http://127.0.0.1:${/"port":(\d+)\}[^\n]*"msg":"admin listener started"/.exec(out)![1]}`;
  });
  after(async () => {
    if (child !== undefined) assert.equal(await stopCli(child), 0);
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows each breaker merged over the workers, and validates a forced state in the primary', async () => {
    assert.deepEqual(await outcomes('/api/x', 10), Array(10).fill('200'));
    const app = (await upstreams()).get('app')!;
    assert.equal(app.circuit!.state, 'closed');
    assert.equal(app.circuit!.forced, null);
    assert.deepEqual(app.circuit!.byWorker, { open: 0, 'half-open': 0, closed: 2 });
    assert.equal(app.circuit!.workers, 2);
    assert.deepEqual(app.targets[0]!.circuit!.byWorker, { open: 0, 'half-open': 0, closed: 2 });
    assert.equal((await upstreams()).get('plain')!.circuit, null);

    assert.equal((await admin('/admin/upstreams/plain/circuit', 'PUT', { state: 'open' })).status, 409);
    assert.equal((await admin('/admin/upstreams/nope/circuit', 'PUT', { state: 'open' })).status, 404);
    assert.equal((await admin('/admin/upstreams/app/circuit', 'PUT', { state: 'open', target: 'http://127.0.0.1:1/' })).status, 404);
    assert.equal((await admin('/admin/upstreams/app/circuit', 'PUT', { state: 'half-open' })).status, 400);
  });

  it('a circuit forced open refuses requests in every worker, a replacement worker and a new config version included; auto restores it', async () => {
    const put = await admin('/admin/upstreams/app/circuit', 'PUT', { state: 'open' });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.circuit.state, 'open');
    assert.equal(put.body.circuit.forced, 'open');
    assert.deepEqual(put.body.circuit.byWorker, { open: 2, 'half-open': 0, closed: 0 });

    assert.deepEqual(await outcomes('/api/x', 12), Array(12).fill('503 SLUICE_ERR_CIRCUIT_OPEN'));
    assert.deepEqual(await outcomes('/other/x', 4), Array(4).fill('200'), 'other upstreams are not affected');
    const audit = await admin('/admin/audit?limit=5');
    assert.ok(JSON.stringify(audit.body).includes('upstream.circuit'), JSON.stringify(audit.body));

    // A crashed worker's replacement gets the forced state with its first config.
    const [victim, survivor] = await workers();
    process.kill(victim!.pid, 'SIGKILL');
    await until('a replacement worker', async () => {
      const list = await workers();
      return list.length === 2 && list.every((w) => w.status === 'up') && list.some((w) => w.pid !== victim!.pid && w.pid !== survivor!.pid) ? true : undefined;
    });
    const afterCrash = (await upstreams()).get('app')!.circuit!;
    assert.deepEqual(afterCrash.byWorker, { open: 2, 'half-open': 0, closed: 0 });
    assert.equal(afterCrash.workers, 2);
    assert.deepEqual(await outcomes('/api/x', 12), Array(12).fill('503 SLUICE_ERR_CIRCUIT_OPEN'));

    // A new config version whose window length builds new breakers in the workers: still forced open.
    await writeConfig('20s');
    child!.kill('SIGHUP');
    await until('every worker on version 2', async () => ((await workers()).every((w) => w.version === 2) ? true : undefined));
    assert.deepEqual((await upstreams()).get('app')!.circuit!.byWorker, { open: 2, 'half-open': 0, closed: 0 });
    assert.deepEqual(await outcomes('/api/x', 8), Array(8).fill('503 SLUICE_ERR_CIRCUIT_OPEN'));

    const auto = await admin('/admin/upstreams/app/circuit', 'PUT', { state: 'auto' });
    assert.equal(auto.status, 200);
    assert.equal(auto.body.circuit.forced, null);
    assert.deepEqual(auto.body.circuit.byWorker, { open: 0, 'half-open': 0, closed: 2 });
    assert.deepEqual(await outcomes('/api/x', 12), Array(12).fill('200'));
  });

  it('forces one target\'s breaker in every worker', async () => {
    const target = new URL(upstream.url).href;
    const put = await admin('/admin/upstreams/app/circuit', 'PUT', { state: 'open', target });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const view = put.body.targets.find((t: { url: string }) => t.url === target).circuit as Circuit;
    assert.deepEqual([view.state, view.forced, view.byWorker.open], ['open', 'open', 2]);
    // Its only target is skipped by the balancer in both workers.
    assert.deepEqual(await outcomes('/api/x', 8), Array(8).fill('503 SLUICE_ERR_NO_HEALTHY_UPSTREAM'));
    assert.equal((await admin('/admin/upstreams/app/circuit', 'PUT', { state: 'auto', target })).status, 200);
    assert.deepEqual(await outcomes('/api/x', 8), Array(8).fill('200'));
  });
});
