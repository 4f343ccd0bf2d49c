import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { createGateway, type Gateway } from '../../src/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startServer, type TestServer as SinkServer } from '../../src/observability/sinks/test-server.ts';
import { startCli, stopCli } from '../helpers/cli.ts';
import { request, startEchoUpstream, type TestServer } from '../helpers/servers.ts';

const LOG_BODY = fileURLToPath(new URL('../fixtures/plugins/log-body.mjs', import.meta.url));
const ADMIN_TOKEN = 'logging-test-admin-token-0123456789';
const MODULES = ['gateway', 'proxy', 'config', 'admin', 'plugins', 'upstream', 'cluster', 'sinks', 'tracing'];

/** Every line of a sink's files: the live file, rotated ones and gzipped ones. */
async function fileLines(dir: string, base: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => n === base || n.startsWith(`${base}.`));
  // Oldest rotated first (highest number), the live file last.
  const order = (n: string) => (n === base ? 0 : Number(/\.(\d+)(\.gz)?$/.exec(n)?.[1] ?? 0));
  names.sort((a, b) => order(b) - order(a));
  let text = '';
  for (const n of names) {
    const raw = await readFile(join(dir, n));
    text += n.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  }
  return text.split('\n').filter((l) => l !== '');
}

function sinkLines(server: SinkServer): string[] {
  return server.requests.flatMap((r) => r.body.split('\n').filter((l) => l !== ''));
}

/** A pino logger and access sink capturing every line in memory (what stdout would get). */
function memoryStdout() {
  const app: Record<string, unknown>[] = [];
  const access: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l !== '') app.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { app, access, logger: createLogger({ destination }), accessLogSink: { write: (l: string) => void access.push(l) } };
}

describe('logging: secrets never reach any log destination', { timeout: 60_000 }, () => {
  const secrets = {
    authorization: 'leak-authorization-0001',
    cookie: 'leak-cookie-0002',
    apiKey: 'leak-apikey-0003',
    custom: 'leak-custom-0004',
    sig: 'leak-sig-0005',
    queryKey: 'leak-querykey-0006',
    password: 'leak-password-0007',
    proxyAuth: 'leak-proxyauth-0008',
    referer: 'leak-referer-0009',
    wrongAdmin: 'leak-wrong-admin-token-0010',
    setCookie: 'leak-set-cookie-0011',
  };
  let dir: string;
  let upstream: TestServer;
  let httpSink: SinkServer;
  let output = '';
  let file: string[] = [];
  let posted: string[] = [];
  let metricsText = '';
  const ids: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-logging-leak-'));
    upstream = await startEchoUpstream({ 'set-cookie': `sid=${secrets.setCookie}` });
    httpSink = await startServer();
    const config = {
      listeners: [{ name: 'public', host: '127.0.0.1', port: 0 }],
      admin: { host: '127.0.0.1', port: 0, stateDir: join(dir, 'state'), tokens: [{ name: 'ada', role: 'admin', token: ADMIN_TOKEN }] },
      plugins: { paths: [LOG_BODY], global: { 'request-id': {}, 'log-body': {} } },
      upstreams: [
        { name: 'app', targets: [{ url: upstream.url }] },
        { name: 'down', targets: [{ url: 'http://127.0.0.1:1' }] },
      ],
      routes: [
        { name: 'echo', match: { paths: ['/echo'] }, upstream: 'app' },
        { name: 'body', match: { paths: ['/body'] }, upstream: 'app', plugins: { 'log-body': { respond: true } } },
        { name: 'down', match: { paths: ['/down'] }, upstream: 'down' },
      ],
      observability: {
        logLevel: 'debug',
        moduleLevels: Object.fromEntries(MODULES.map((m) => [m, 'debug'])),
        accessLog: { requestHeaders: ['authorization', 'cookie', 'x-api-key', 'x-custom-secret', 'proxy-authorization', 'referer', 'accept'], query: true },
        redact: { headers: ['x-custom-secret'], queryParams: ['sig'], bodyFields: ['password'] },
        sinks: [
          { type: 'stdout' },
          { type: 'file', path: join(dir, 'all.log'), maxSize: '4kb', compress: true, keep: 100 },
          { type: 'http', url: `${httpSink.url}/logs`, batch: { flushInterval: '100ms' } },
        ],
      },
    };
    const configFile = join(dir, 'sluice.json');
    await writeFile(configFile, JSON.stringify(config));
    const cli = await startCli(['start', '-c', configFile, '--no-watch'], {}, /"msg":"admin listener started"/);
    const out = cli.output();
    const gateway = `http://127.0.0.1:${/"port":(\d+)[^\n]*"msg":"listener started"/.exec(out)![1]}`;
    const admin = `http://127.0.0.1:${/"port":(\d+)\}[^\n]*"msg":"admin listener started"/.exec(out)![1]}`;

    const headers = (n: number) => {
      const id = `leak-test-request-${n}`;
      ids.push(id);
      return {
        'x-request-id': id,
        authorization: `Bearer ${secrets.authorization}`,
        cookie: `session=${secrets.cookie}`,
        'x-api-key': secrets.apiKey,
        'x-custom-secret': secrets.custom,
        'proxy-authorization': `Basic ${secrets.proxyAuth}`,
        referer: `http://client.example/page?token=${secrets.referer}`,
        accept: 'application/json',
      };
    };
    const query = `?sig=${secrets.sig}&api_key=${secrets.queryKey}&plain=visible`;
    assert.equal((await request(`${gateway}/echo${query}`, { headers: headers(1) })).status, 200);
    const body = JSON.stringify({ user: { name: 'ada', password: secrets.password } });
    const posted1 = await request(`${gateway}/body${query}`, { method: 'POST', headers: { ...headers(2), 'content-type': 'application/json' }, body });
    assert.equal(posted1.status, 200, posted1.body);
    assert.equal((await request(`${gateway}/down${query}`, { headers: headers(3) })).status, 502);
    const adminAuth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    assert.equal((await request(`${admin}/admin/log-level`, { headers: adminAuth })).status, 200);
    const put = await request(`${admin}/admin/log-level?token=${secrets.referer}`, {
      method: 'PUT',
      headers: { ...adminAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ level: 'debug', module: 'proxy' }),
    });
    assert.equal(put.status, 200, put.body);
    assert.equal((await request(`${admin}/admin/config`, { headers: { authorization: `Bearer ${secrets.wrongAdmin}` } })).status, 401);
    // Metrics carry config names only: nothing a request sent may appear there either.
    await new Promise((r) => setTimeout(r, 300));
    metricsText = (await request(`${admin}/metrics`)).body;
    await stopCli(cli.child);
    output = cli.output();
    file = await fileLines(dir, 'all.log');
    posted = sinkLines(httpSink);
  });

  after(async () => {
    await upstream.close();
    await httpSink.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('no secret appears in /metrics; the sinks report their deliveries there', () => {
    for (const [name, secret] of Object.entries(secrets)) assert.ok(!metricsText.includes(secret), `${name} leaked to /metrics`);
    assert.match(metricsText, /sluice_log_sink_sent_total\{sink="http"\} [1-9]/);
    assert.match(metricsText, /sluice_log_sink_dropped_total\{sink="file"\} 0/);
  });

  it('no secret appears in stdout/stderr, the file sink (rotated and gzipped too) or the http sink', () => {
    for (const [where, text] of [['stdout', output], ['file', file.join('\n')], ['http', posted.join('\n')]] as const) {
      for (const [name, secret] of Object.entries(secrets)) assert.ok(!text.includes(secret), `${name} leaked to ${where}:\n${text.split('\n').find((l) => l.includes(secret))}`);
      assert.ok(!text.includes(ADMIN_TOKEN), `admin token leaked to ${where}`);
    }
  });

  it('the lines are there: every request id, access lines with [redacted] headers and query, plugin logs of body and headers', () => {
    assert.ok(file.some((l) => l.includes('"msg":"gateway stopped"')), 'file sink flushed at stop');
    for (const [where, lines] of [['stdout', output.split('\n')], ['file', file], ['http', posted]] as const) {
      for (const id of ids) assert.ok(lines.some((l) => l.includes(id)), `${id} missing from ${where}`);
      const access = lines.filter((l) => l.includes('"kind":"access"')).map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(access.length, 3, where);
      for (const a of access) {
        assert.deepEqual(a.requestHeaders, {
          authorization: '[redacted]',
          cookie: '[redacted]',
          'x-api-key': '[redacted]',
          'x-custom-secret': '[redacted]',
          'proxy-authorization': '[redacted]',
          referer: 'http://client.example/page?token=[redacted]',
          accept: 'application/json',
        });
        assert.equal(a.query, 'sig=[redacted]&api_key=[redacted]&plain=visible');
      }
      assert.deepEqual(access.map((a) => a.status), [200, 200, 502]);
      const bodyLine = lines.find((l) => l.includes('"msg":"request body for')) ?? '';
      const parsed = JSON.parse(bodyLine) as { body: unknown; module: string; plugin: string; headers: Record<string, string>; url: string };
      assert.equal(parsed.module, 'plugins');
      assert.equal(parsed.plugin, 'log-body');
      assert.deepEqual(parsed.body, { user: { name: 'ada', password: '[redacted]' } });
      assert.equal(parsed.headers['x-custom-secret'], '[redacted]');
      assert.equal(parsed.headers.accept, 'application/json');
      assert.equal(parsed.url, '/body?sig=[redacted]&api_key=[redacted]&plain=visible');
      assert.ok(lines.some((l) => l.includes('"msg":"request seen"') && l.includes('"rawHeaders"')), `raw header list logged in ${where}`);
      assert.ok(lines.some((l) => l.includes('"msg":"request failed"') && l.includes('SLUICE_ERR_UPSTREAM')), `error path logged in ${where}`);
      assert.ok(lines.some((l) => l.includes('"msg":"log-body debug"')), `debug level in force in ${where}`);
    }
  });
});

describe('logging: sinks from config', { timeout: 60_000 }, () => {
  let dir: string;
  let upstream: TestServer;
  let ndjson: SinkServer;
  let bulk: SinkServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-logging-sinks-'));
    upstream = await startEchoUpstream();
    ndjson = await startServer();
    bulk = await startServer(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"took":1,"errors":false,"items":[]}' }));
  });
  after(async () => {
    await upstream.close();
    await ndjson.close();
    await bulk.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('access and app lines arrive where their streams say; stop flushes every line', async () => {
    const gateway = await createGateway({
      listeners: [{ name: 'public', host: '127.0.0.1', port: 0 }],
      admin: { enabled: false },
      upstreams: [{ name: 'app', targets: [{ url: upstream.url }] }],
      routes: [{ name: 'all', match: { paths: ['/*'] }, upstream: 'app' }],
      observability: {
        sinks: [
          { type: 'file', name: 'disk', path: join(dir, 'gw.log'), maxSize: '2kb', compress: true, keep: 200 },
          // Long flush intervals: only the flush at stop can deliver these lines.
          { type: 'http', name: 'vector', url: `${ndjson.url}/ingest`, streams: ['app'], batch: { flushInterval: '1h', maxBatchLines: 1000 } },
          { type: 'elasticsearch', name: 'es', url: bulk.url, index: 'sluice-%Y.%m.%d', streams: ['access'], batch: { flushInterval: '1h', maxBatchLines: 25 } },
        ],
      },
    });
    await gateway.start();
    const url = `http://127.0.0.1:${[...gateway.addresses().values()][0]!.port}`;
    const N = 60;
    for (let i = 0; i < N; i++) assert.equal((await request(`${url}/r/${i}`)).status, 200);
    gateway.logger.info('app line before stop');
    await gateway.stop({ deadlineMs: 3000 });

    const file = await fileLines(dir, 'gw.log');
    assert.ok((await readdir(dir)).some((n) => n.endsWith('.gz')), 'rotated and compressed');
    const fileAccess = file.filter((l) => l.includes('"kind":"access"')).map((l) => JSON.parse(l).path as string);
    assert.deepEqual(fileAccess, Array.from({ length: N }, (_, i) => `/r/${i}`), 'every access line, in order, across rotations');
    assert.ok(file.some((l) => l.includes('"msg":"app line before stop"')));
    assert.ok(file.some((l) => l.includes('"msg":"gateway stopped"')));

    const app = sinkLines(ndjson).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(app.filter((l) => l.kind === 'access').length, 0, 'no access lines in an app-only sink');
    assert.ok(app.some((l) => l.msg === 'app line before stop'));
    assert.ok(app.some((l) => l.msg === 'gateway stopped' && l.module === 'gateway'));
    assert.ok(app.some((l) => l.msg === 'config applied' && l.module === 'config'));

    const bulkLines = sinkLines(bulk);
    const docs = bulkLines.filter((_, i) => i % 2 === 1).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(bulk.requests.every((r) => r.url === '/_bulk'));
    assert.ok(bulkLines.filter((_, i) => i % 2 === 0).every((l) => /^\{"create":\{"_index":"sluice-\d{4}\.\d{2}\.\d{2}"\}\}$/.test(l)));
    assert.deepEqual(docs.map((d) => d.path), Array.from({ length: N }, (_, i) => `/r/${i}`), 'every access line reached elasticsearch');
    assert.equal(docs.filter((d) => d.kind !== 'access').length, 0, 'no app lines in an access-only sink');

    const stats = gateway.logging.sinkStats();
    assert.deepEqual(stats.map((s) => [s.name, s.queued, s.dropped]), [['disk', 0, 0], ['vector', 0, 0], ['es', 0, 0]]);
    assert.equal(stats.find((s) => s.name === 'es')!.sent, N);
  });

  it('a destination that is down or never answers does not slow requests; its bounded queue drops and counts', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const hanging = http.createServer(() => undefined); // accepts, reads, never answers
    hanging.on('connection', (s) => sockets.add(s));
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    const hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
    const mem = memoryStdout();
    const gateway = await createGateway(
      {
        listeners: [{ name: 'public', host: '127.0.0.1', port: 0 }],
        admin: { enabled: false },
        upstreams: [{ name: 'app', targets: [{ url: upstream.url }] }],
        routes: [{ name: 'all', match: { paths: ['/*'] }, upstream: 'app' }],
        observability: {
          sinks: [
            { type: 'stdout' },
            { type: 'http', name: 'hanging', url: hangingUrl, batch: { maxQueueLines: 20, maxBatchLines: 10, flushInterval: '20ms', timeout: '30s' } },
            { type: 'elasticsearch', name: 'refused', url: 'http://127.0.0.1:1', index: 'x', streams: ['access'], batch: { maxQueueLines: 20, maxBatchLines: 10, flushInterval: '20ms' } },
          ],
        },
      },
      { logger: mem.logger, accessLogSink: mem.accessLogSink },
    );
    try {
      await gateway.start();
      const url = `http://127.0.0.1:${[...gateway.addresses().values()][0]!.port}`;
      const started = performance.now();
      const N = 200;
      const statuses = await Promise.all(Array.from({ length: N }, (_, i) => request(`${url}/slow-sink/${i}`).then((r) => r.status)));
      const elapsed = performance.now() - started;
      assert.deepEqual(new Set(statuses), new Set([200]));
      assert.ok(elapsed < 5000, `${N} requests took ${Math.round(elapsed)} ms`);
      assert.equal(mem.access.length, N, 'stdout still gets every line');
      const stats = Object.fromEntries(gateway.logging.sinkStats().map((s) => [s.name, s]));
      assert.ok(stats.hanging!.queued <= 30, `queue bounded: ${stats.hanging!.queued}`);
      assert.ok(stats.hanging!.dropped >= N - 30, `hanging sink dropped ${stats.hanging!.dropped}`);
      assert.ok(stats.refused!.dropped >= N - 30, `refused sink dropped ${stats.refused!.dropped}`);
      const stopStarted = performance.now();
      await gateway.stop({ deadlineMs: 500 });
      assert.ok(performance.now() - stopStarted < 3000, 'stop is bounded by the deadline, not by the dead sink');
      assert.ok(
        mem.app.some((l) => l.msg === 'log sink dropped lines (destination slow or down)' && l.module === 'sinks' && l.sink === 'hanging'),
        'drops are reported',
      );
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => hanging.close(() => r()));
    }
  });
});

describe('logging: access-log format and sampling through the gateway', { timeout: 30_000 }, () => {
  let upstream: TestServer;
  let gateway: Gateway;
  let url: string;
  const mem = memoryStdout();

  const config = (accessLog: unknown) => ({
    listeners: [{ name: 'public', host: '127.0.0.1', port: 0 }],
    admin: { enabled: false },
    upstreams: [
      { name: 'app', targets: [{ url: upstream.url }] },
      { name: 'down', targets: [{ url: 'http://127.0.0.1:1' }] },
    ],
    routes: [
      { name: 'ok', match: { paths: ['/ok'] }, upstream: 'app' },
      { name: 'down', match: { paths: ['/down'] }, upstream: 'down' },
    ],
    observability: { accessLog, redact: { queryParams: ['sig'] } },
  });

  before(async () => {
    upstream = await startEchoUpstream();
    gateway = await createGateway(config({ format: 'combined', sampleRate: 0, query: true }), { logger: mem.logger, accessLogSink: mem.accessLogSink });
    await gateway.start();
    url = `http://127.0.0.1:${[...gateway.addresses().values()][0]!.port}`;
  });
  after(async () => {
    await gateway.stop({ deadlineMs: 1000 });
    await upstream.close();
  });

  it('sampleRate 0 keeps only errors (alwaysLogErrors), in combined format, and counts the rest', async () => {
    for (let i = 0; i < 20; i++) assert.equal((await request(`${url}/ok?i=${i}`)).status, 200);
    const evilUa = 'evil" 200 1 "-" "-" rid=forged';
    assert.equal((await request(`${url}/down?sig=s1g&x=1`, { headers: { 'user-agent': evilUa, referer: 'http://ref/' } })).status, 502);
    assert.equal(mem.access.length, 1);
    const line = mem.access[0]!;
    assert.match(
      line,
      /^127\.0\.0\.1 - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET \/down\?sig=\[redacted\]&x=1 HTTP\/1\.1" 502 \d+ "http:\/\/ref\/" "evil\\" 200 1 \\"-\\" \\"-\\" rid=forged" rid=\S+ dur=[\d.]+ route=down err=SLUICE_ERR_UPSTREAM_CONNECT\n$/,
    );
    assert.equal(gateway.logging.accessSampledOut, 20);
  });

  it('a reload to sampleRate 1 and json logs every request again', async () => {
    const outcome = await gateway.reload(config({ format: 'json', sampleRate: 1 }));
    assert.ok(outcome.ok);
    const before = mem.access.length;
    for (let i = 0; i < 5; i++) await request(`${url}/ok`);
    const lines = mem.access.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 5);
    assert.ok(lines.every((l) => l.kind === 'access' && l.route === 'ok' && typeof l.upstreamMs === 'number' && l.bytesReceived === 0));
    assert.equal(gateway.logging.accessSampledOut, 20);
  });

  it('accessLog: false switches it off', async () => {
    await gateway.reload(config(false));
    const before = mem.access.length;
    await request(`${url}/ok`);
    assert.equal(mem.access.length, before);
    assert.equal(gateway.logging.accessLog, undefined);
  });
});

describe('logging: per-module levels at runtime', { timeout: 30_000 }, () => {
  let upstream: TestServer;
  let gateway: Gateway;
  let url: string;
  let admin: string;
  const mem = memoryStdout();
  const call = async (method: string, path: string, body?: unknown) =>
    request(`${admin}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  before(async () => {
    upstream = await startEchoUpstream();
    const dir = await mkdtemp(join(tmpdir(), 'sluice-logging-levels-'));
    gateway = await createGateway(
      {
        listeners: [{ name: 'public', host: '127.0.0.1', port: 0 }],
        admin: { host: '127.0.0.1', port: 0, stateDir: dir, tokens: [{ name: 'ada', role: 'admin', token: ADMIN_TOKEN }] },
        plugins: { paths: [LOG_BODY], global: { 'log-body': {} } },
        upstreams: [{ name: 'app', targets: [{ url: upstream.url }] }],
        routes: [{ name: 'all', match: { paths: ['/*'] }, upstream: 'app' }],
        observability: { logLevel: 'info', moduleLevels: { admin: 'warn' } },
      },
      { logger: mem.logger, accessLogSink: mem.accessLogSink },
    );
    await gateway.start();
    url = `http://127.0.0.1:${[...gateway.addresses().values()][0]!.port}`;
    admin = `http://127.0.0.1:${gateway.adminAddress()!.port}`;
  });
  after(async () => {
    await gateway.stop({ deadlineMs: 1000 });
    await upstream.close();
  });

  it('GET shows the root and module levels; PUT for one module changes only that module', async () => {
    const initial = JSON.parse((await call('GET', '/admin/log-level')).body);
    assert.deepEqual(initial, { level: 'info', modules: { ...Object.fromEntries(MODULES.map((m) => [m, 'info'])), admin: 'warn' } });
    await request(`${url}/a`);
    assert.equal(mem.app.filter((l) => l.msg === 'log-body debug').length, 0);

    const put = await call('PUT', '/admin/log-level', { level: 'debug', module: 'plugins' });
    assert.equal(put.status, 200, put.body);
    const after = JSON.parse((await call('GET', '/admin/log-level')).body);
    assert.deepEqual(after, { ...initial, modules: { ...initial.modules, plugins: 'debug' } });
    await request(`${url}/b`);
    const debug = mem.app.filter((l) => l.msg === 'log-body debug');
    assert.equal(debug.length, 1, 'the plugin logger created before the change follows its module');
    assert.equal(debug[0]!.module, 'plugins');
    assert.equal(gateway.logging.module('proxy').isLevelEnabled('debug'), false);

    assert.equal((await call('PUT', '/admin/log-level', { level: 'debug', module: 'nope' })).status, 400);
    const root = await call('PUT', '/admin/log-level', { level: 'warn' });
    assert.equal(root.status, 200);
    const levels = JSON.parse(root.body);
    assert.equal(levels.level, 'warn');
    assert.equal(levels.modules.plugins, 'debug', 'a module with its own level keeps it');
    assert.equal(levels.modules.proxy, 'warn');
    assert.equal(levels.modules.admin, 'warn');
  });
});

describe('logging: multi-process mode', { timeout: 90_000 }, () => {
  let dir: string;
  let upstream: TestServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-logging-workers-'));
    upstream = await startEchoUpstream();
  });
  after(async () => {
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('each worker writes its own file; a runtime module level reaches every worker', async () => {
    const configFile = join(dir, 'sluice.json');
    await writeFile(
      configFile,
      JSON.stringify({
        listeners: [{ name: 'public', host: '127.0.0.1', port: 0 }],
        admin: { host: '127.0.0.1', port: 0, stateDir: join(dir, 'state'), tokens: [{ name: 'ada', role: 'admin', token: ADMIN_TOKEN }] },
        plugins: { paths: [LOG_BODY], global: { 'log-body': {} } },
        upstreams: [{ name: 'app', targets: [{ url: upstream.url }] }],
        routes: [{ name: 'all', match: { paths: ['/*'] }, upstream: 'app' }],
        observability: { sinks: [{ type: 'stdout', streams: ['app'] }, { type: 'file', path: join(dir, 'gw.log') }] },
      }),
    );
    const cli = await startCli(['start', '-c', configFile, '--no-watch', '--workers', '2'], {}, /"msg":"workers started"/);
    try {
      const out = cli.output();
      const url = `http://127.0.0.1:${/"port":(\d+)[^\n]*"msg":"listener started"/.exec(out)![1]}`;
      const admin = `http://127.0.0.1:${/"port":(\d+)\}[^\n]*"msg":"admin listener started"/.exec(out)![1]}`;
      const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
      // Own connection each: the cluster spreads them over both workers.
      const burst = (tag: string) => Promise.all(Array.from({ length: 20 }, (_, i) => request(`${url}/${tag}/${i}`)));
      await burst('before');
      const put = await request(`${admin}/admin/log-level`, { method: 'PUT', headers: auth, body: JSON.stringify({ level: 'debug', module: 'plugins' }) });
      assert.equal(put.status, 200, put.body);
      await burst('after');
      await stopCli(cli.child);
      const names = (await readdir(dir)).filter((n) => n.startsWith('gw.log')).sort();
      assert.deepEqual(names, ['gw.log', 'gw.log.w1', 'gw.log.w2']);
      const primary = (await readFile(join(dir, 'gw.log'), 'utf8')).trim().split('\n');
      assert.ok(primary.some((l) => l.includes('"msg":"admin listener started"')));
      assert.ok(primary.some((l) => l.includes('"msg":"worker started"') && l.includes('"module":"cluster"')));
      assert.ok(!primary.some((l) => l.includes('"kind":"access"') || l.includes('"msg":"listener started"')), 'workers write their own files');
      let debugLines = 0;
      for (const w of [1, 2]) {
        const lines = (await readFile(join(dir, `gw.log.w${w}`), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
        assert.ok(lines.every((l) => l.worker === w || l.kind === 'access'), `worker ${w} file holds only its lines`);
        assert.ok(lines.some((l) => l.kind === 'access'), `worker ${w} served requests`);
        const debug = lines.filter((l) => l.msg === 'log-body debug');
        assert.ok(debug.every((l) => String(l.path).startsWith('/after/')), 'no debug line before the change');
        assert.ok(debug.length > 0, `worker ${w} got the new level`);
        debugLines += debug.length;
      }
      assert.equal(debugLines, 20);
    } finally {
      await stopCli(cli.child);
    }
  });
});
