import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCli, stopCli } from '../helpers/cli.ts';
import { runLoad } from '../helpers/load.ts';
import { request, startUpstream, type TestServer } from '../helpers/servers.ts';

const TOKEN = 'reload-test-token';

function configYaml(targets: string[], variant: number, adminPort: number): string {
  return [
    'listeners: [{ name: public, host: 127.0.0.1, port: 0, timeouts: { keepAlive: 30s } }]',
    `admin: { host: 127.0.0.1, port: ${adminPort}, stateDir: STATE_DIR, tokens: [{ name: ops, role: admin, token: ${TOKEN} }] }`,
    'upstreams:',
    `  - { name: app, targets: [${targets.map((t) => `{ url: "${t}" }`).join(', ')}] }`,
    'routes:',
    '  - { name: stream, match: { paths: ["/stream"] }, upstream: app }',
    '  - { name: all, match: { paths: ["/*"] }, upstream: app }',
    // the variant changes a route and a plugin each time, so every reload is a real change
    `  - { name: v${variant}, match: { paths: ["/variant/${variant}"] }, upstream: app, plugins: { response-headers: { set: { x-variant: "${variant}" } } } }`,
    '',
  ].join('\n');
}

describe('zero-loss hot reload under load (CLI process: file watch, SIGHUP and admin API)', () => {
  let dir: string;
  const upstreams: TestServer[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-reload-'));
    for (let i = 0; i < 3; i++) {
      upstreams.push(
        await startUpstream((req, res) => {
          if (req.url === '/stream') {
            // a long streaming response that must survive every reload
            res.writeHead(200, { 'content-type': 'text/plain' });
            let n = 0;
            const timer = setInterval(() => {
              res.write(`chunk ${n++}\n`);
              if (n === 20) {
                clearInterval(timer);
                res.end();
              }
            }, 100);
            res.on('close', () => clearInterval(timer));
            return;
          }
          res.end(`ok ${i}`);
        }),
      );
    }
  });
  after(async () => {
    for (const u of upstreams) await u.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves every request across 50 reloads, including rejected ones', { timeout: 90_000 }, async () => {
    const file = join(dir, 'sluice.yaml');
    const adminPort = 0;
    const write = (targets: string[], variant: number) =>
      writeFile(file, configYaml(targets, variant, adminPort).replace('STATE_DIR', JSON.stringify(join(dir, 'state'))));
    const urls = upstreams.map((u) => u.url);
    await write(urls.slice(0, 2), 0);
    const { child, output } = await startCli(['start', '-c', file], {}, /admin listener started/);
    try {
      const port = Number(/"port":(\d+)[^\n]*"msg":"listener started"/.exec(output())![1]);
      const base = `http://127.0.0.1:${port}`;
      const admin = `http://127.0.0.1:${/"port":(\d+)\}[^\n]*"msg":"admin listener started"/.exec(output())![1]}`;
      const load = runLoad({ urls: [base], durationMs: 15_000, rate: 300, sockets: 16, paths: ['/a', '/b/c', '/d?x=1'], streamPaths: ['/stream', '/stream'] });
      let applied = 0;
      let rejected = 0;
      for (let i = 1; i <= 50; i++) {
        const targets = i % 3 === 0 ? urls : i % 3 === 1 ? urls.slice(1) : urls.slice(0, 2);
        const how = i % 5;
        if (how === 4) {
          // invalid: a dangling upstream reference must be rejected without disturbing traffic
          await writeFile(file, configYaml(targets, i, adminPort).replace('upstream: app }', 'upstream: nope }').replace('STATE_DIR', JSON.stringify(join(dir, 'state'))));
          child.kill('SIGHUP');
          rejected++;
        } else {
          await write(targets, i);
          if (how === 1) child.kill('SIGHUP');
          if (how === 2) {
            const res = await request(`${admin}/admin/config/reload`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
            assert.ok(res.status === 200 || res.status === 400, `admin reload answered ${res.status}: ${res.body}`);
          }
          // how 0 and 3: the file watcher picks the change up
          applied++;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      const report = await load;
      assert.equal(report.failed, 0, `failures: ${JSON.stringify(report.failures)}`);
      assert.ok(report.ok > 3000, `enough traffic (${report.ok})`);
      assert.ok(report.streamsOk >= 4, `long streams completed (${report.streamsOk})`);
      assert.equal(report.streamsFailed, 0);
      const versions = JSON.parse((await request(`${admin}/admin/config/versions`, { headers: { authorization: `Bearer ${TOKEN}` } })).body);
      assert.ok(versions.current > 10, `many versions applied (${versions.current})`);
      assert.match(output(), /config rejected/);
      assert.ok(applied > 30 && rejected === 10);
    } finally {
      assert.equal(await stopCli(child), 0);
    }
  });
});
