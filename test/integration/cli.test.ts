import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startCli, stopCli } from '../helpers/cli.ts';
import { request, startEchoUpstream, type TestServer } from '../helpers/servers.ts';

describe('sluice CLI', () => {
  let dir: string;
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-cli-'));
    a = await startEchoUpstream({ 'x-which': 'a' });
    b = await startEchoUpstream({ 'x-which': 'b' });
  });
  after(async () => {
    await a.close();
    await b.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('validate exits 1 and prints every error with its JSON path', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      [
        'listeners: [{ name: public, port: 8080 }]',
        'upstreams: [{ name: users, targets: [{ url: "http://127.0.0.1:9000" }] }]',
        'routes:',
        '  - { name: a, match: { paths: ["/a"] }, upstream: users }',
        '  - { name: a, match: { paths: ["/b"] }, upstream: userz }',
        '  - { name: c, match: { paths: ["/c"] }, upstream: users, plugins: { rate-limt: {} } }',
        '  - { name: d, match: { paths: ["/d"] }, upstream: users, plugins: { request-id: { echo: "yes" } } }',
        '',
      ].join('\n'),
    );
    const r = await runCli(['validate', '-c', file]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /\/routes\/1\/name: duplicate route name "a"/);
    assert.match(r.stderr, /\/routes\/1\/upstream: unknown upstream "userz"/);
    assert.match(r.stderr, /\/routes\/2\/plugins\/rate-limt: unknown plugin "rate-limt"/);
    assert.match(r.stderr, /\/routes\/3\/plugins\/request-id\/echo: /);
  });

  it('validate exits 0 on a valid file', async () => {
    const file = join(dir, 'good.json');
    await writeFile(
      file,
      JSON.stringify({
        listeners: [{ name: 'public', port: 8080 }],
        upstreams: [{ name: 'u', targets: [{ url: a.url }] }],
        routes: [{ name: 'r', match: { paths: ['/*'] }, upstream: 'u' }],
      }),
    );
    const r = await runCli(['validate', '-c', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ok/);
  });

  it('schema prints the JSON Schema', async () => {
    const r = await runCli(['schema']);
    assert.equal(r.code, 0);
    const schema = JSON.parse(r.stdout);
    assert.ok(schema.properties.listeners);
    assert.ok(schema.properties.routes);
  });

  it('proxy round-robins over --to targets and drains on SIGTERM', async () => {
    const { child, output } = await startCli(['proxy', '--listen', '0', '--host', '127.0.0.1', '--to', a.url, '--to', b.url], {}, /listener started/);
    try {
      const port = portFrom(output());
      const seen = new Set<string>();
      for (let i = 0; i < 4; i++) seen.add(String((await request(`http://127.0.0.1:${port}/x`)).headers['x-which']));
      assert.deepEqual([...seen].sort(), ['a', 'b']);
    } finally {
      assert.equal(await stopCli(child), 0);
    }
  });

  it('proxy honours LISTEN_PORT and UPSTREAM_URL when flags are absent', async () => {
    const { child, output } = await startCli(['proxy', '--host', '127.0.0.1'], { LISTEN_PORT: '0', UPSTREAM_URL: a.url }, /listener started/);
    try {
      const port = portFrom(output());
      assert.equal((await request(`http://127.0.0.1:${port}/y`)).headers['x-which'], 'a');
    } finally {
      await stopCli(child);
    }
  });

  it('start -c runs a config file and reloads it on SIGHUP', async () => {
    const file = join(dir, 'sluice.yaml');
    const write = (upstream: string) =>
      writeFile(
        file,
        [
          'listeners: [{ name: public, host: 127.0.0.1, port: 0 }]',
          'admin: { enabled: false }',
          `upstreams: [{ name: u, targets: [{ url: "${upstream}" }] }]`,
          'routes: [{ name: all, match: { paths: ["/*"] }, upstream: u }]',
          '',
        ].join('\n'),
      );
    await write(a.url);
    // --no-watch: this test is about SIGHUP (the watcher is tested with the reload-under-load test)
    const { child, output } = await startCli(['start', '-c', file, '--no-watch'], {}, /listener started/);
    try {
      const port = portFrom(output());
      assert.equal((await request(`http://127.0.0.1:${port}/z`)).headers['x-which'], 'a');
      await write(b.url);
      child.kill('SIGHUP');
      for (let i = 0; i < 100 && !/"version":2[^\n]*config applied/.test(output()); i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal((await request(`http://127.0.0.1:${port}/z`)).headers['x-which'], 'b');
      await writeFile(file, 'listeners: nope\n');
      child.kill('SIGHUP');
      for (let i = 0; i < 100 && !/config rejected/.test(output()); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(output(), /config rejected/);
      assert.equal((await request(`http://127.0.0.1:${port}/z`)).headers['x-which'], 'b', 'running config stays in force');
    } finally {
      await stopCli(child);
    }
  });
});

function portFrom(output: string): number {
  const match = /"listener started"/.test(output) ? /"port":(\d+)[^\n]*"msg":"listener started"/.exec(output) : null;
  assert.ok(match, `no listener line in:\n${output}`);
  return Number(match[1]);
}
