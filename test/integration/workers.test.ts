import { parseMetrics, promtoolCheck, promtoolInstalled, sumOf } from '../helpers/prom.ts';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCli, stopCli } from '../helpers/cli.ts';
import { runLoad } from '../helpers/load.ts';
import { request, startUpstream, type TestServer } from '../helpers/servers.ts';
import { until } from '../helpers/wait.ts';

const TOKEN = 'workers-test-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

interface WorkerInfo {
  id: number;
  pid: number;
  status: string;
  version: number;
}

interface Instance {
  child: ChildProcess;
  url: string;
  admin: string;
}


describe('sluice start --workers (multi-process mode)', { timeout: 90_000 }, () => {
  let dir: string;
  let upstream: TestServer;
  let file: string;

  const writeConfig = (paths: string[], drainDelay = '0s') =>
    writeFile(
      file,
      [
        'listeners: [{ name: public, host: 127.0.0.1, port: 0 }]',
        `admin: { host: 127.0.0.1, port: 0, stateDir: ${JSON.stringify(join(dir, 'state'))}, tokens: [{ name: ada, role: admin, token: ${TOKEN} }] }`,
        `shutdown: { drainDelay: ${drainDelay}, deadline: 10s }`,
        'workers: 2',
        'observability: { accessLog: false }',
        `upstreams: [{ name: app, targets: [{ url: "${upstream.url}" }] }]`,
        `routes: [${paths.map((p, i) => `{ name: r${i}, match: { paths: ["${p}"] }, upstream: app }`).join(', ')}]`,
        '',
      ].join('\n'),
    );

  /** `fromFile`: take the worker count from the config's `workers: 2` instead of the flag. */
  async function start(fromFile = false): Promise<Instance> {
    const args = ['start', '-c', file, '--no-watch', ...(fromFile ? [] : ['--workers', '2'])];
    const cli = await startCli(args, {}, /"msg":"workers started"/);
    const out = cli.output();
    return {
      child: cli.child,
      url: `http://127.0.0.1:${/"port":(\d+)[^\n]*"msg":"listener started"/.exec(out)![1]}`,
      admin: `http://127.0.0.1:${/"port":(\d+)\}[^\n]*"msg":"admin listener started"/.exec(out)![1]}`,
    };
  }

  const workers = async (i: Instance): Promise<WorkerInfo[]> => JSON.parse((await request(`${i.admin}/admin/workers`, { headers: auth })).body).workers;
  const admin = async (i: Instance, path: string) => JSON.parse((await request(`${i.admin}${path}`, { headers: auth })).body);
  /** `n` requests, each on its own connection (so cluster spreads them over the workers). */
  const statuses = async (url: string, n: number) => Promise.all(Array.from({ length: n }, async () => (await request(url)).status));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-workers-'));
    file = join(dir, 'sluice.yaml');
    upstream = await startUpstream((req, res) => setTimeout(() => res.end(`ok ${req.url}`), req.url === '/api/slow' ? 300 : 0));
  });
  after(async () => {
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves from two workers, aggregates their state, and applies admin writes and SIGHUP in every worker', async () => {
    await writeConfig(['/api/*']);
    const instance = await start();
    try {
      const list = await workers(instance);
      assert.equal(list.length, 2);
      assert.ok(list.every((w) => w.status === 'up' && w.version === 1 && w.pid !== instance.child.pid));
      assert.notEqual(list[0]!.pid, list[1]!.pid);

      assert.deepEqual(await statuses(`${instance.url}/api/x`, 20), Array(20).fill(200));
      // One connection per request, spread over both workers: only the sum over both counts all 20.
      const connections = await admin(instance, '/admin/connections');
      assert.equal(connections.listeners[0].total, 20);
      const summary = await admin(instance, '/admin/metrics/summary');
      assert.equal(summary.total['1m'].requests, 20);
      // /metrics sums every worker's series (and passes promtool when it is installed).
      const text = (await request(`${instance.admin}/metrics`)).body;
      const metrics = parseMetrics(text);
      assert.equal(sumOf(metrics, 'sluice_http_requests_total', { status_class: '2xx' }), 20);
      assert.equal(sumOf(metrics, 'sluice_http_request_duration_seconds_count'), 20);
      assert.ok(metrics.has('sluice_process_resident_memory_bytes'));
      if (promtoolInstalled) assert.equal(promtoolCheck(text), '');

      assert.equal((await request(`${instance.url}/extra/x`)).status, 404);
      const put = await request(`${instance.admin}/admin/routes/extra`, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ match: { paths: ['/extra/*'] }, upstream: 'app' }),
      });
      assert.equal(put.status, 201, put.body);
      assert.deepEqual(await statuses(`${instance.url}/extra/x`, 10), Array(10).fill(200));

      await writeConfig(['/api/*', '/hup/*']);
      instance.child.kill('SIGHUP');
      await until('every worker on version 3', async () => ((await workers(instance)).every((w) => w.version === 3) ? true : undefined));
      assert.deepEqual(await statuses(`${instance.url}/hup/x`, 10), Array(10).fill(200));
      assert.equal((await request(`${instance.url}/extra/x`)).status, 404, 'the file no longer has the API-added route');
    } finally {
      assert.equal(await stopCli(instance.child), 0);
    }
  });

  it('replaces a worker killed with SIGKILL and keeps serving (count from the config file)', async () => {
    await writeConfig(['/api/*']);
    const instance = await start(true);
    try {
      const [victim, survivor] = await workers(instance);
      process.kill(victim!.pid, 'SIGKILL');
      const replaced = await until('a replacement worker', async () => {
        const list = await workers(instance);
        const fresh = list.find((w) => w.pid !== victim!.pid && w.pid !== survivor!.pid && w.status === 'up');
        return list.length === 2 && fresh !== undefined ? fresh : undefined;
      });
      assert.equal(replaced.version, survivor!.version);
      assert.deepEqual(await statuses(`${instance.url}/api/x`, 20), Array(20).fill(200));
      assert.equal((await request(`${instance.admin}/readyz`)).status, 200);
    } finally {
      assert.equal(await stopCli(instance.child), 0);
    }
  });

  it('drains every worker on SIGTERM without failing a request, and exits 0', async () => {
    await writeConfig(['/api/*'], '1s');
    const instance = await start();
    // the "load balancer": polls the primary's /readyz and only sends while it is ready
    let ready = true;
    const poll = setInterval(() => {
      request(`${instance.admin}/readyz`).then(
        (r) => (ready = r.status === 200),
        () => (ready = false),
      );
    }, 100);
    try {
      const load = runLoad({ urls: [instance.url], isUp: () => ready, durationMs: 4000, rate: 100, sockets: 16, paths: ['/api/fast', '/api/slow', '/api/x'] });
      await new Promise((r) => setTimeout(r, 1500));
      const exited = stopCli(instance.child, 'SIGTERM', 20_000);
      const report = await load;
      assert.equal(await exited, 0, 'the primary exits 0');
      assert.equal(report.failed, 0, `failures: ${JSON.stringify(report.failures)}`);
      assert.ok(report.ok > 100, `traffic flowed (${report.ok})`);
      assert.equal(ready, false);
    } finally {
      clearInterval(poll);
      await stopCli(instance.child);
    }
  });
});
