import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCli, stopCli } from '../helpers/cli.ts';
import { runLoad } from '../helpers/load.ts';
import { request, startUpstream, type TestServer } from '../helpers/servers.ts';

describe('rolling update: drain one of two instances under load', () => {
  let dir: string;
  let upstream: TestServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-drain-'));
    upstream = await startUpstream((req, res) => {
      // some requests take a while, so the drain has in-flight work to finish
      const delay = req.url === '/slow' ? 300 : 0;
      setTimeout(() => res.end('ok'), delay);
    });
  });
  after(async () => {
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('loses no request while one instance drains', { timeout: 60_000 }, async () => {
    const instances = [];
    for (const name of ['a', 'b']) {
      const file = join(dir, `${name}.yaml`);
      await writeFile(
        file,
        [
          'listeners: [{ name: public, host: 127.0.0.1, port: 0 }]',
          `admin: { host: 127.0.0.1, port: 0, stateDir: ${JSON.stringify(join(dir, name))} }`,
          'shutdown: { drainDelay: 3s, deadline: 10s }',
          `upstreams: [{ name: app, targets: [{ url: "${upstream.url}" }] }]`,
          'routes: [{ name: all, match: { paths: ["/*"] }, upstream: app }]',
          '',
        ].join('\n'),
      );
      const cli = await startCli(['start', '-c', file, '--no-watch'], {}, /admin listener started/);
      const out = cli.output();
      instances.push({
        child: cli.child,
        url: `http://127.0.0.1:${/"port":(\d+)[^\n]*"msg":"listener started"/.exec(out)![1]}`,
        admin: `http://127.0.0.1:${/"port":(\d+)\}[^\n]*"msg":"admin listener started"/.exec(out)![1]}`,
      });
    }
    // the "load balancer": polls /readyz every 100 ms and only routes to ready instances; drainDelay
    // (3 s) is several poll periods, as in a real deployment, so a loaded CI machine still sees 503 first
    const ready = new Map(instances.map((i) => [i.url, true]));
    const poll = setInterval(() => {
      for (const i of instances) {
        request(`${i.admin}/readyz`).then(
          (r) => ready.set(i.url, r.status === 200),
          () => ready.set(i.url, false),
        );
      }
    }, 100);
    try {
      const load = runLoad({ urls: instances.map((i) => i.url), isUp: (u) => ready.get(u) === true, durationMs: 8000, rate: 200, sockets: 8, paths: ['/fast', '/slow', '/x'] });
      await new Promise((r) => setTimeout(r, 2500));
      const drained = stopCli(instances[0]!.child, 'SIGTERM', 20_000);
      const report = await load;
      assert.equal(await drained, 0, 'the drained instance exits 0');
      assert.equal(report.failed, 0, `failures: ${JSON.stringify(report.failures)}`);
      assert.ok(report.ok > 1000, `traffic flowed (${report.ok})`);
      assert.equal(ready.get(instances[0]!.url), false);
    } finally {
      clearInterval(poll);
      for (const i of instances) await stopCli(i.child);
    }
  });
});
