import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { ObservabilityConfig } from '../config/schema/observability.ts';
import { fakeContext } from '../plugins/test-helpers.ts';
import { createLogger } from './logger.ts';
import { Logging } from './logging.ts';
import { filePathFor, sinkNames } from './log-sinks.ts';
import { startServer } from './sinks/test-server.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const access: string[] = [];
  const logging = new Logging({ logger: createLogger({ destination }), accessLogSink: { write: (l: string) => void access.push(l) } });
  return { logging, lines, access };
}

const ctx = (id: string) =>
  fakeContext({ id, status: 200, req: { httpVersion: '1.1' } as IncomingMessage, res: { writableFinished: true } as ServerResponse });

test('module loggers: own level, bindings, children follow; runtime overrides until the config changes the levels', () => {
  const { logging, lines } = capture();
  logging.apply({ logLevel: 'warn', moduleLevels: { plugins: 'debug' } });
  const plugin = logging.module('plugins').child({ plugin: 'p' });
  plugin.debug('plugin debug');
  logging.module('proxy').info('proxy info'); // warn: filtered
  logging.logger.warn('root warn');
  assert.deepEqual(lines.map((l) => [l.module, l.plugin, l.msg]), [['plugins', 'p', 'plugin debug'], [undefined, undefined, 'root warn']]);
  assert.equal(logging.levels().level, 'warn');
  assert.equal(logging.levels().modules.plugins, 'debug');
  assert.equal(logging.levels().modules.admin, 'warn');

  logging.setLevel('error', 'plugins');
  plugin.warn('hidden now');
  assert.equal(lines.length, 2, 'an existing child follows its module');
  logging.setLevel('info');
  assert.deepEqual(logging.levels().modules, { ...logging.levels().modules, plugins: 'error', admin: 'info', proxy: 'info' });
  // An unrelated config change keeps the runtime levels…
  logging.apply({ logLevel: 'warn', moduleLevels: { plugins: 'debug' }, accessLog: false });
  assert.equal(logging.levels().modules.plugins, 'error');
  assert.equal(logging.levels().level, 'info');
  // …a change to the levels puts the config's in force.
  logging.apply({ logLevel: 'warn', moduleLevels: { plugins: 'trace' } });
  assert.equal(logging.levels().modules.plugins, 'trace');
  assert.equal(logging.levels().level, 'warn');
  logging.forceLevels({ level: 'debug', modules: { ...logging.levels().modules, admin: 'silent' } });
  assert.equal(logging.levels().modules.admin, 'silent');
  assert.equal(logging.levels().level, 'debug');
});

test('sinks from config: streams route lines, rebuild only on change, close flushes everything', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-logging-'));
  const http = await startServer();
  try {
    const { logging, lines, access } = capture();
    const sinks: ObservabilityConfig['sinks'] = [
      { type: 'file', path: join(dir, 'app.log'), streams: ['app'] },
      { type: 'file', path: join(dir, 'access.log'), streams: ['access'] },
      { type: 'http', url: `${http.url}/ingest`, batch: { flushInterval: '50ms' } },
    ];
    logging.apply({ sinks });
    assert.deepEqual(
      logging.sinkStats().map((s) => s.name),
      ['file', 'file-2', 'http'],
    );
    logging.module('config').info('app line one');
    logging.accessLog!.write(ctx('req-1'), 1);
    // Same sinks, other settings: no rebuild (the old sinks would be closed and new ones built).
    logging.apply({ sinks, accessLog: { format: 'combined' } });
    logging.accessLog!.write(ctx('req-2'), 1);
    logging.module('config').info('app line two');
    await logging.close(3000);

    assert.equal(lines.length, 0, 'stdout is not a configured sink');
    assert.equal(access.length, 0);
    const app = (await readFile(join(dir, 'app.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
    assert.deepEqual(app.map((l) => l.msg), ['log sinks configured', 'app line one', 'app line two']);
    const accessLines = (await readFile(join(dir, 'access.log'), 'utf8')).trim().split('\n');
    assert.equal(JSON.parse(accessLines[0]!).requestId, 'req-1');
    assert.match(accessLines[1]!, /^192\.0\.2\.10 - - \[.*\] "GET \/users\/42 HTTP\/1\.1" 200 - "-" "-" rid=req-2 /);
    const posted = http.requests.flatMap((r) => r.body.trim().split('\n')).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(posted.filter((l) => l.msg !== undefined).map((l) => l.msg), ['log sinks configured', 'app line one', 'app line two']);
    const wrapped = posted.filter((l) => l.kind === 'access');
    assert.equal(wrapped.length, 2);
    assert.equal(wrapped[0]!.requestId, 'req-1');
    assert.match(String(wrapped[1]!.message), /rid=req-2/, 'a combined line reaches a JSON-only sink wrapped in a document');
    const stats = logging.sinkStats();
    assert.deepEqual(stats.map((s) => [s.name, s.queued, s.dropped]), [['file', 0, 0], ['file-2', 0, 0], ['http', 0, 0]]);
    assert.equal(stats.find((s) => s.name === 'http')!.sent, 5);
  } finally {
    await http.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a changed sinks section rebuilds them; the old ones are flushed, counters carry over by name', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-logging-'));
  try {
    const { logging } = capture();
    logging.apply({ sinks: [{ type: 'file', name: 'main', path: join(dir, 'a.log') }] });
    logging.module('gateway').info('to a');
    logging.apply({ sinks: [{ type: 'file', name: 'main', path: join(dir, 'b.log') }] });
    logging.module('gateway').info('to b');
    await logging.close(3000);
    const a = await readFile(join(dir, 'a.log'), 'utf8');
    const b = await readFile(join(dir, 'b.log'), 'utf8');
    assert.match(a, /"msg":"to a"/);
    assert.doesNotMatch(a, /to b/);
    assert.match(b, /"msg":"to b"/);
    const [main] = logging.sinkStats();
    assert.equal(main!.name, 'main');
    assert.equal(main!.sent, a.trim().split('\n').length + b.trim().split('\n').length);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a sink that is down never blocks: bounded queue, drops counted and reported under module "sinks"', async () => {
  const { logging, lines } = capture();
  logging.apply({
    sinks: [{ type: 'stdout', streams: ['app'] }, { type: 'http', name: 'down', url: 'http://127.0.0.1:1/', streams: ['access'], batch: { maxQueueLines: 5, maxRetries: 0, flushInterval: '1h' } }],
  });
  const started = performance.now();
  for (let i = 0; i < 100; i++) logging.accessLog!.write(ctx(`r${i}`), 1);
  assert.ok(performance.now() - started < 200);
  const down = logging.sinkStats().find((s) => s.name === 'down')!;
  assert.ok(down.dropped >= 90, `dropped ${down.dropped}`);
  await logging.close(1000);
  const warning = lines.find((l) => l.msg === 'log sink dropped lines (destination slow or down)');
  assert.ok(warning, JSON.stringify(lines));
  assert.equal(warning.module, 'sinks');
  assert.equal(warning.sink, 'down');
});

test('sink names and per-worker file names', () => {
  assert.deepEqual(sinkNames([{ type: 'file', path: 'a' }, { type: 'stdout' }, { type: 'file', path: 'b' }, { type: 'file', path: 'c', name: 'x' }]), ['file', 'stdout', 'file-2', 'x']);
  assert.equal(filePathFor('logs/app.log', { cwd: '/srv' }), '/srv/logs/app.log');
  assert.equal(filePathFor('/var/log/app.log', { workerId: 3 }), '/var/log/app.log.w3');
});
