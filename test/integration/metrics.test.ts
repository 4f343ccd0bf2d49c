import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { createGateway, type Gateway } from '../../src/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { definePlugin } from '../../src/plugins/types.ts';
import { parseMetrics, promtoolCheck, promtoolInstalled, sumOf } from '../helpers/prom.ts';
import { request, startUpstream, type TestServer } from '../helpers/servers.ts';

/** A third-party-style plugin that declares its own metrics through the typed API. */
const counterPlugin = definePlugin({
  name: 'hit-tracker',
  priority: 100,
  schema: Type.Object({}),
  create(_config, env) {
    const hits = env.metrics.counter({ name: 'hits_total', help: 'Requests seen by the plugin', labelNames: ['route'] });
    const sizes = env.metrics.histogram({ name: 'path_length', help: 'Path length', buckets: [5, 10, 50] });
    // Bound once per instance: the request path only adds.
    const routeHits = hits.labels({ route: env.route ?? 'global' });
    return {
      onRequest(ctx) {
        routeHits.inc();
        sizes.observe(ctx.path.length);
      },
    };
  },
});

function config(stateDir: string, app: string, dead: string, extra: Record<string, unknown> = {}) {
  return {
    listeners: [{ name: 'public', host: '127.0.0.1', port: 0 }],
    admin: { host: '127.0.0.1', port: 0, stateDir },
    upstreams: [
      { name: 'app', targets: [{ url: app }] },
      { name: 'dead', targets: [{ url: dead }], timeouts: { connect: '1s' } },
    ],
    routes: [
      { name: 'api', match: { paths: ['/api/*'] }, upstream: 'app' },
      { name: 'down', match: { paths: ['/down'] }, upstream: 'dead' },
      { name: 'counted', match: { paths: ['/counted'] }, upstream: 'app', plugins: { 'hit-tracker': {} } },
    ],
    ...extra,
  };
}

describe('per-request metrics', () => {
  let dir: string;
  let app: TestServer;
  let gateway: Gateway;
  let proxy: string;
  let admin: string;
  let deadUrl: string;

  const scrape = async (): Promise<{ text: string; m: Map<string, number> }> => {
    const res = await request(`${admin}/metrics`);
    assert.equal(res.status, 200);
    return { text: res.body, m: parseMetrics(res.body) };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-metrics-'));
    app = await startUpstream((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/api/fail') return void res.writeHead(500).end('no');
        const delay = req.url === '/api/slow' ? 400 : 0;
        setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('hello world'), delay);
      });
    });
    // A port that was open a moment ago and is closed now: connections are refused.
    const closed = await startUpstream(() => undefined);
    deadUrl = closed.url;
    await closed.close();
    gateway = await createGateway(config(dir, app.url, deadUrl), {
      logger: createLogger({ level: 'silent' }),
      accessLogSink: { write() {} },
      plugins: [counterPlugin],
    });
    await gateway.start();
    proxy = `http://127.0.0.1:${[...gateway.addresses().values()][0]!.port}`;
    const a = gateway.adminAddress()!;
    admin = `http://127.0.0.1:${a.port}`;

    for (let i = 0; i < 3; i++) assert.equal((await request(`${proxy}/api/x`)).status, 200);
    assert.equal((await request(`${proxy}/api/x`, { method: 'POST', body: 'a'.repeat(100) })).status, 200);
    // Chunked request body: counted as it streams.
    await new Promise<void>((resolve, reject) => {
      const req = http.request(`${proxy}/api/x`, { method: 'POST', agent: false }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.write('b'.repeat(30));
      req.end('c'.repeat(20));
    });
    assert.equal((await request(`${proxy}/api/fail`)).status, 500);
    assert.equal((await request(`${proxy}/nothing-here`)).status, 404);
    assert.equal((await request(`${proxy}/other`)).status, 404);
    assert.equal((await request(`${proxy}/down`)).status, 502);
    for (let i = 0; i < 4; i++) assert.equal((await request(`${proxy}/counted`)).status, 200);
  });

  after(async () => {
    await gateway.stop({ deadlineMs: 1000 });
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('counts requests by route, method and status class, with unmatched requests under "__unmatched__"', async () => {
    const { m } = await scrape();
    assert.equal(m.get('sluice_http_requests_total{route="api",method="GET",status_class="2xx"}'), 3);
    assert.equal(m.get('sluice_http_requests_total{route="api",method="POST",status_class="2xx"}'), 2);
    assert.equal(m.get('sluice_http_requests_total{route="api",method="GET",status_class="5xx"}'), 1);
    assert.equal(m.get('sluice_http_requests_total{route="__unmatched__",method="GET",status_class="4xx"}'), 2);
    assert.equal(m.get('sluice_http_requests_total{route="down",method="GET",status_class="5xx"}'), 1);
    assert.equal(m.get('sluice_http_requests_total{route="counted",method="GET",status_class="2xx"}'), 4);
  });

  it('records latency histograms and body bytes per route, upstream latency and errors per upstream', async () => {
    const { m } = await scrape();
    assert.equal(m.get('sluice_http_request_duration_seconds_count{route="api"}'), 6);
    assert.equal(m.get('sluice_http_request_duration_seconds_bucket{route="api",le="+Inf"}'), 6);
    assert.ok(m.get('sluice_http_request_duration_seconds_sum{route="api"}')! > 0);
    assert.equal(m.get('sluice_http_request_body_bytes_total{route="api"}'), 150);
    // 5 × "hello world" (11 bytes) + "no" (2 bytes)
    assert.equal(m.get('sluice_http_response_body_bytes_total{route="api"}'), 57);
    assert.equal(m.get('sluice_upstream_responses_total{upstream="app",status_class="2xx"}'), 9);
    assert.equal(m.get('sluice_upstream_responses_total{upstream="app",status_class="5xx"}'), 1);
    assert.equal(m.get('sluice_upstream_response_duration_seconds_count{upstream="app"}'), 10);
    assert.equal(m.get('sluice_upstream_errors_total{upstream="dead",kind="connect"}'), 1);
  });

  it('exports target state and in-flight requests, read when scraped', async () => {
    const { m } = await scrape();
    assert.equal(m.get(`sluice_upstream_target_up{upstream="app",target="${app.url}/"}`), 1);
    assert.equal(m.get(`sluice_upstream_target_in_flight{upstream="app",target="${app.url}/"}`), 0);
    assert.equal(m.get('sluice_http_requests_in_flight'), 0);
    assert.ok(m.get(`sluice_upstream_target_connects_total{upstream="app",target="${app.url}/"}`)! >= 1);
    assert.equal(m.get(`sluice_upstream_target_retries_total{upstream="app",target="${app.url}/"}`), 0);
    const slow = request(`${proxy}/api/slow`);
    await new Promise((r) => setTimeout(r, 150));
    const during = (await scrape()).m;
    assert.equal(during.get('sluice_http_requests_in_flight'), 1);
    assert.equal(during.get(`sluice_upstream_target_in_flight{upstream="app",target="${app.url}/"}`), 1);
    assert.equal((await slow).status, 200);
    assert.equal((await scrape()).m.get('sluice_http_requests_in_flight'), 0);
  });

  it('serves plugin-declared metrics next to the gateway\'s', async () => {
    const { m } = await scrape();
    assert.equal(m.get('sluice_plugin_hit_tracker_hits_total{route="counted"}'), 4);
    assert.equal(m.get('sluice_plugin_hit_tracker_path_length_bucket{le="10"}'), 4);
    assert.equal(m.get('sluice_plugin_hit_tracker_path_length_count'), 4);
  });

  it('gives the admin summary the same counts as the metrics', async () => {
    const { m } = await scrape();
    const summary = JSON.parse((await request(`${admin}/admin/metrics/summary`)).body) as {
      routes: Record<string, { '5m': { requests: number; errors: number } }>;
      top: { byTraffic: Array<{ route: string }>; byErrors: Array<{ route: string; errors: number }> };
      health: { status: string; upstreams: Record<string, { status: string; availableTargets: number }> };
    };
    assert.equal(summary.top.byTraffic[0]!.route, 'api');
    assert.deepEqual(summary.top.byErrors.map((e) => e.route).sort(), ['api', 'down']);
    assert.equal(summary.health.upstreams.dead!.status, 'critical');
    assert.equal(summary.health.upstreams.app!.availableTargets, 1);
    assert.equal(summary.health.status, 'critical');
    for (const route of ['api', 'down', 'counted']) {
      assert.equal(summary.routes[route]!['5m'].requests, sumOf(m, 'sluice_http_requests_total', { route }), route);
    }
    assert.equal(summary.routes.api!['5m'].errors, sumOf(m, 'sluice_http_requests_total', { route: 'api', status_class: '5xx' }));
  });

  it('keeps counting across a config reload (counters never reset)', async () => {
    const before = (await scrape()).m.get('sluice_http_requests_total{route="api",method="GET",status_class="2xx"}')!;
    const next = config(dir, app.url, deadUrl, { proxy: { via: true } });
    const outcome = await gateway.reload(next);
    assert.equal(outcome.ok, true);
    assert.equal((await request(`${proxy}/api/x`)).status, 200);
    assert.equal((await request(`${proxy}/counted`)).status, 200);
    const { m } = await scrape();
    assert.equal(m.get('sluice_http_requests_total{route="api",method="GET",status_class="2xx"}'), before + 1);
    assert.equal(m.get('sluice_plugin_hit_tracker_hits_total{route="counted"}'), 5);
  });

  it('passes promtool check metrics', { skip: !promtoolInstalled && process.env.CI !== 'true' ? 'promtool not installed' : false }, async () => {
    const { text } = await scrape();
    assert.equal(promtoolCheck(text), '');
  });
});

describe('metrics settings', () => {
  let dir: string;
  let app: TestServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-metrics-cfg-'));
    app = await startUpstream((req, res) => {
      req.resume();
      res.end('ok');
    });
  });
  after(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function run(observability: Record<string, unknown>, routes: number, paths: string[]): Promise<Map<string, number>> {
    const gateway = await createGateway(
      {
        listeners: [{ name: 'public', host: '127.0.0.1', port: 0 }],
        admin: { host: '127.0.0.1', port: 0, stateDir: dir },
        upstreams: [{ name: 'app', targets: [{ url: app.url }] }],
        routes: Array.from({ length: routes }, (_, i) => ({ name: `r${i}`, match: { paths: [`/r${i}`] }, upstream: 'app' })),
        observability,
      },
      { logger: createLogger({ level: 'silent' }), accessLogSink: { write() {} } },
    );
    await gateway.start();
    try {
      const proxy = `http://127.0.0.1:${[...gateway.addresses().values()][0]!.port}`;
      for (const p of paths) await request(`${proxy}${p}`);
      const res = await request(`http://127.0.0.1:${gateway.adminAddress()!.port}/metrics`);
      return parseMetrics(res.body);
    } finally {
      await gateway.stop({ deadlineMs: 500 });
    }
  }

  it('caps route labels: routes past maxRouteLabels share "__overflow__"', async () => {
    const m = await run({ metrics: { maxRouteLabels: 2 } }, 5, ['/r0', '/r1', '/r2', '/r3', '/r4', '/r4']);
    assert.equal(m.get('sluice_http_requests_total{route="r0",method="GET",status_class="2xx"}'), 1);
    assert.equal(m.get('sluice_http_requests_total{route="r1",method="GET",status_class="2xx"}'), 1);
    assert.equal(m.get('sluice_http_requests_total{route="__overflow__",method="GET",status_class="2xx"}'), 4);
    assert.equal(sumOf(m, 'sluice_http_requests_total', { route: 'r3' }), 0);
  });

  it('uses the configured latency buckets', async () => {
    const m = await run({ metrics: { latencyBuckets: [0.2, 3] } }, 1, ['/r0']);
    assert.equal(m.get('sluice_http_request_duration_seconds_bucket{route="r0",le="0.2"}'), 1);
    assert.equal(m.get('sluice_http_request_duration_seconds_bucket{route="r0",le="3"}'), 1);
    assert.equal(m.get('sluice_http_request_duration_seconds_bucket{route="r0",le="0.005"}'), undefined);
  });

  it('records nothing per request when metrics are off', async () => {
    const m = await run({ metrics: { enabled: false } }, 1, ['/r0', '/r0']);
    assert.equal(sumOf(m, 'sluice_http_requests_total'), 0);
    assert.equal(m.get('sluice_http_requests_in_flight'), 0);
    assert.ok(m.has('sluice_config_version'));
  });
});
