import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { startGateway, startUpstream, type TestGateway, type TestServer } from '../helpers/servers.ts';
import { ok, startTimedLoad, timedGet, type Sample } from '../helpers/timed-load.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * Chaos scenarios of issue 6: real upstreams behind fault-injecting TCP proxies (test/helpers/
 * fault-proxy.ts), a real gateway, real HTTP clients — all on 127.0.0.1, each scenario bounded.
 * Assertions are on what clients and upstreams see (statuses, codes, who received what), not on
 * the internals or metric names of health checks, breakers and retries.
 */

// ─────────────────────────────────────────────────────────────────────────────────────────────
// CONFIG BLOCKS — one per scenario, in the schema's keys (src/config/schema/upstream.ts,
// route.ts, resilience.ts). `upstream` is merged into the upstream config, `route` into the route.
// ─────────────────────────────────────────────────────────────────────────────────────────────

/** (a) No explicit policy: the *Defaults* section (outlier ejection, retry of connect failures on another target, re-admission). */
const DEFAULTS = { upstream: {}, route: {} };

/** (b) A slow target: its responses time out, consecutive gateway errors eject it. No retries, so each timeout is visible. */
const SLOW_TARGET = {
  upstream: {
    timeouts: { response: '300ms' },
    outlierDetection: { enabled: true, consecutiveGatewayErrors: 3, baseEjectionTime: '3s', maxEjectionTime: '10s', maxEjectionPercent: 34 },
  },
  route: { retry: { attempts: 0 } },
  timeoutCode: 'SLUICE_ERR_UPSTREAM_TIMEOUT',
};

/** (c) Upstream-wide breaker; outlier ejection off so the breaker (not ejection) answers. */
const BREAKER = {
  upstream: {
    outlierDetection: { enabled: false },
    circuitBreaker: { window: '10s', minRequests: 5, failureRate: 50, openDuration: '1s', halfOpenProbes: 1, successThreshold: 2, perTarget: false },
  },
  route: { retry: { attempts: 0 } },
  openCode: 'SLUICE_ERR_CIRCUIT_OPEN',
  openDurationMs: 1000,
};

/** (d) Aggressive retries on 503 under a tight budget: retries in flight ≤ max(1, 20 % of requests in flight). */
const RETRY_STORM = {
  upstream: { outlierDetection: { enabled: false } },
  route: { retry: { attempts: 3, on: ['503'], backoff: { base: '1ms', max: '5ms' }, budget: { ratio: 0.2, minConcurrency: 1 } } },
  /** Without a budget every request would cost 1 + attempts upstream calls (4×). */
  maxAmplification: 1.5,
};

/** (e) A route limited to 4 concurrent requests and 2 queued (200 ms), beside an unlimited one. */
const SHEDDING = {
  saturatedRoute: { limits: { maxConcurrent: 4, maxQueue: 2, queueTimeout: '200ms' } },
  otherRoute: {},
  shedCode: 'SLUICE_ERR_ROUTE_OVERLOADED',
  maxServed: 4 + 2,
};

// ─────────────────────────────────────────────────────────────────────────────────────────────

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


/** A real upstream behind its own fault proxy; counts what it receives. Behaviour is switchable. */
interface Backend {
  name: string;
  server: TestServer;
  proxy: FaultProxy;
  hits: number;
  inflight: number;
  maxInflight: number;
  delayMs: number;
  /** Answer with this status instead of 200 (0 = healthy). */
  failStatus: number;
}

async function startBackend(name: string, delayMs = 0): Promise<Backend> {
  const b = { name, hits: 0, inflight: 0, maxInflight: 0, delayMs, failStatus: 0 } as Backend;
  b.server = await startUpstream((req, res) => {
    b.hits++;
    b.inflight++;
    b.maxInflight = Math.max(b.maxInflight, b.inflight);
    res.once('close', () => b.inflight--);
    req.resume();
    req.on('end', () => {
      setTimeout(() => {
        const status = b.failStatus || 200;
        res.writeHead(status, { 'content-type': 'text/plain', 'x-backend': name }).end(status === 200 ? `ok from ${name}` : 'failing');
      }, b.delayMs);
    });
  });
  b.proxy = await startFaultProxy(b.server.url);
  return b;
}

async function closeAll(gw: TestGateway | undefined, backends: Backend[]): Promise<void> {
  await gw?.close();
  for (const b of backends) {
    await b.proxy.close();
    await b.server.close();
  }
}

function upstream(name: string, backends: Backend[], extra: object) {
  return { name, targets: backends.map((b) => ({ url: b.proxy.url })), ...extra };
}

const describeFailures = (samples: Sample[]) =>
  samples
    .filter((s) => !ok(s))
    .slice(0, 10)
    .map((s) => `${s.path} ${s.status} ${s.code ?? s.error ?? ''}`)
    .join('; ');

describe('chaos scenarios', { concurrency: 1 }, () => {
  it('(a) one of three targets dies under load: errors only for requests in flight on it, then zero; it is used again once back', { timeout: 40_000 }, async () => {
    const backends = await Promise.all(['a', 'b', 'c'].map((n) => startBackend(n, 20)));
    const [, dying] = backends as [Backend, Backend, Backend];
    let gw: TestGateway | undefined;
    try {
      gw = await startGateway({
        upstreams: [upstream('app', backends, DEFAULTS.upstream)],
        routes: [{ name: 'app', match: { paths: ['/*'] }, upstream: 'app', ...DEFAULTS.route }],
      });
      const load = startTimedLoad({ url: gw.url, paths: ['/work'], rate: 150, sockets: 32 });
      await waitFor('every target to serve', () => backends.every((b) => b.hits >= 10), 5000);
      // Every request in flight on the target holds one of its connections (no pipelining): an upper bound.
      const inflightBound = dying.proxy.stats.active;
      const killedAt = performance.now();
      await dying.proxy.refuse('close');
      dying.proxy.resetConnections();
      await sleep(2500);
      const hitsWhileDead = dying.hits;
      await dying.proxy.heal();
      await waitFor('the recovered target to get requests again', () => dying.hits > hitsWhileDead, 15_000);
      await sleep(300);
      const samples = await load.stop();

      assert.ok(samples.length > 300, `load ran (${samples.length} requests)`);
      const failures = samples.filter((s) => !ok(s));
      assert.ok(samples.filter((s) => s.end < killedAt).every(ok), 'no failure before the fault');
      assert.ok(failures.length <= inflightBound, `${failures.length} failures, at most ${inflightBound} were in flight on the dead target: ${describeFailures(samples)}`);
      // Requests sent once the gateway could see the target was gone (its RSTs are processed on the next turn of the loop) all succeed.
      const late = failures.filter((s) => s.start > killedAt + 100);
      assert.equal(late.length, 0, `failures after the target died: ${describeFailures(late)}`);
      assert.ok(backends.filter((b) => b !== dying).every((b) => b.hits > 50), 'the two others carried the load');
    } finally {
      await closeAll(gw, backends);
    }
  });

  it('(b) a target slows down: it is ejected, latency recovers, and it is re-admitted once healthy', { timeout: 40_000 }, async () => {
    const backends = await Promise.all(['a', 'b', 'c'].map((n) => startBackend(n)));
    const [, slow] = backends as [Backend, Backend, Backend];
    let gw: TestGateway | undefined;
    try {
      gw = await startGateway({
        upstreams: [upstream('app', backends, SLOW_TARGET.upstream)],
        routes: [{ name: 'app', match: { paths: ['/*'] }, upstream: 'app', ...SLOW_TARGET.route }],
      });
      const load = startTimedLoad({ url: gw.url, paths: ['/work'], rate: 60, sockets: 32 });
      await waitFor('every target to serve', () => backends.every((b) => b.hits >= 5), 5000);
      const slowedAt = performance.now();
      slow.proxy.latency(1500);
      // 3 consecutive timeouts at ~20 req/s to this target: ejected well within this second and a half.
      await sleep(1500);
      const ejectedFrom = performance.now();
      const hitsEjected = slow.hits;
      await sleep(1200);
      const ejectedUntil = performance.now();
      assert.equal(slow.hits, hitsEjected, 'the slow target got no request while ejected');
      await slow.proxy.heal();
      await waitFor('the healed target to be re-admitted', () => slow.hits > hitsEjected, 12_000);
      const samples = await load.stop();

      const during = samples.filter((s) => s.start >= slowedAt && s.start < ejectedFrom);
      const failed = during.filter((s) => !ok(s));
      assert.ok(failed.length >= 3, `the slowdown was seen (${failed.length} timeouts)`);
      assert.ok(failed.every((s) => s.code === SLOW_TARGET.timeoutCode), describeFailures(during));
      // Ejected after 3 in a row; the others in flight on it by then time out too (~20 req/s × 300 ms).
      assert.ok(failed.length <= 3 + 8, `${failed.length} timeouts before ejection`);
      const ejected = samples.filter((s) => s.start >= ejectedFrom && s.start < ejectedUntil);
      assert.ok(ejected.length > 30);
      assert.ok(ejected.every(ok), `failures while ejected: ${describeFailures(ejected)}`);
      const durations = ejected.map((s) => s.end - s.start).sort((x, y) => x - y);
      assert.ok(durations[Math.floor(durations.length / 2)]! < 300, 'median latency back under the response timeout');
      const after = samples.filter((s) => s.start >= ejectedUntil);
      assert.ok(after.every(ok), `failures after healing: ${describeFailures(after)}`);
    } finally {
      await closeAll(gw, backends);
    }
  });

  it('(c) all targets fail: the breaker opens, answers fast 503s without upstream calls, and recovers through half-open', { timeout: 40_000 }, async () => {
    const backends = await Promise.all(['a', 'b', 'c'].map((n) => startBackend(n)));
    let gw: TestGateway | undefined;
    try {
      gw = await startGateway({
        upstreams: [upstream('app', backends, BREAKER.upstream)],
        routes: [{ name: 'app', match: { paths: ['/*'] }, upstream: 'app', ...BREAKER.route }],
      });
      const get = () => timedGet(false, gw!.url, '/work');
      for (let i = 0; i < 5; i++) assert.equal((await get()).status, 200);
      for (const b of backends) {
        await b.proxy.refuse('reset');
        b.proxy.resetConnections();
      }
      const attempts = () => backends.reduce((n, b) => n + b.proxy.stats.connections, 0);
      const beforeOpen: Sample[] = [];
      let opened: Sample | undefined;
      for (let i = 0; i < 20 && opened === undefined; i++) {
        const s = await get();
        if (s.code === BREAKER.openCode) opened = s;
        else beforeOpen.push(s);
      }
      assert.ok(opened !== undefined, `the circuit opened: ${describeFailures(beforeOpen)}`);
      assert.ok(beforeOpen.length >= 1 && beforeOpen.every((s) => s.status === 502), `upstream failures first: ${describeFailures(beforeOpen)}`);
      assert.equal(opened.status, 503);

      // Open: every request is answered by the gateway itself — no connection reaches any target.
      const attemptsOpen = attempts();
      const burst = await Promise.all(
        Array.from({ length: 20 }, () =>
          new Promise<{ status: number; retryAfter: string | undefined; code: string | undefined }>((resolve) => {
            http.get(`${gw!.url}/work`, { agent: false }, (res) => {
              let body = '';
              res.on('data', (c: Buffer) => (body += c));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], code: (JSON.parse(body) as { code?: string }).code }));
            });
          }),
        ),
      );
      assert.ok(burst.every((r) => r.status === 503 && r.code === BREAKER.openCode), JSON.stringify(burst.slice(0, 3)));
      assert.ok(burst.every((r) => r.retryAfter !== undefined && /^\d+$/.test(r.retryAfter)), 'Retry-After on every rejection');
      assert.equal(attempts(), attemptsOpen, 'no upstream connection while open');

      // Half-open with the targets still down: the probe fails and the circuit reopens at once.
      await sleep(BREAKER.openDurationMs + 200);
      const probe = await get();
      assert.equal(probe.status, 502, 'the half-open probe went to a target');
      assert.ok(attempts() > attemptsOpen);
      assert.equal((await get()).code, BREAKER.openCode, 'a failed probe reopens the circuit');

      // Targets back: a probe succeeds after the open duration, and the circuit closes.
      for (const b of backends) await b.proxy.heal();
      let recovered: Sample | undefined;
      const until = Date.now() + 8000;
      while (recovered === undefined && Date.now() < until) {
        const s = await get();
        if (ok(s)) recovered = s;
        else {
          assert.ok(s.code === BREAKER.openCode, `only circuit-open answers while recovering, got ${s.status} ${s.code ?? s.error}`);
          await sleep(100);
        }
      }
      assert.ok(recovered !== undefined, 'recovered through half-open');
      for (let i = 0; i < 10; i++) assert.equal((await get()).status, 200, 'closed again');
    } finally {
      await closeAll(gw, backends);
    }
  });

  it('(d) a retry storm is capped by the retry budget', { timeout: 30_000 }, async () => {
    const backends = await Promise.all(['a', 'b', 'c'].map((n) => startBackend(n, 30)));
    for (const b of backends) b.failStatus = 503;
    let gw: TestGateway | undefined;
    try {
      gw = await startGateway({
        upstreams: [upstream('app', backends, RETRY_STORM.upstream)],
        routes: [{ name: 'app', match: { paths: ['/*'] }, upstream: 'app', ...RETRY_STORM.route }],
      });
      const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
      const samples: Sample[] = [];
      const end = Date.now() + 1500;
      // 16 clients, each sending its next request as soon as the last one is answered.
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (Date.now() < end) samples.push(await timedGet(agent, gw!.url, '/work'));
        }),
      );
      agent.destroy();
      const requests = samples.length;
      const calls = backends.reduce((n, b) => n + b.hits, 0);
      assert.ok(requests > 50, `${requests} requests`);
      assert.ok(samples.every((s) => s.status === 503), `the upstream's 503 reaches the client: ${describeFailures(samples)}`);
      assert.ok(calls > requests, `some retries were made (${calls} upstream calls for ${requests} requests)`);
      assert.ok(calls <= requests * RETRY_STORM.maxAmplification, `${calls} upstream calls for ${requests} requests: the budget caps the amplification`);
    } finally {
      await closeAll(gw, backends);
    }
  });

  it('(e) a saturated route sheds with 503 while another route keeps serving', { timeout: 30_000 }, async () => {
    const slow = await startBackend('slow', 600);
    const fast = await startBackend('fast');
    let gw: TestGateway | undefined;
    try {
      gw = await startGateway({
        upstreams: [upstream('slow', [slow], {}), upstream('fast', [fast], {})],
        routes: [
          { name: 'saturated', match: { paths: ['/saturated'] }, upstream: 'slow', ...SHEDDING.saturatedRoute },
          { name: 'other', match: { paths: ['/other'] }, upstream: 'fast', ...SHEDDING.otherRoute },
        ],
      });
      const flood = Promise.all(Array.from({ length: 30 }, () => timedGet(false, gw!.url, '/saturated')));
      await waitFor('the saturated route to be busy', () => slow.inflight > 0, 5000);
      const other: Sample[] = [];
      for (let i = 0; i < 20; i++) other.push(await timedGet(false, gw.url, '/other'));
      const saturated = await flood;

      assert.ok(other.every(ok), `the other route kept serving: ${describeFailures(other)}`);
      const served = saturated.filter(ok);
      const shed = saturated.filter((s) => !ok(s));
      assert.ok(served.length >= 1 && served.length <= SHEDDING.maxServed, `${served.length} served`);
      assert.ok(shed.every((s) => s.status === 503 && s.code === SHEDDING.shedCode), describeFailures(saturated));
      assert.ok(shed.length >= 30 - SHEDDING.maxServed);
      assert.ok(slow.maxInflight <= SHEDDING.saturatedRoute.limits.maxConcurrent, `upstream saw ${slow.maxInflight} at once`);
    } finally {
      await closeAll(gw, [slow, fast]);
    }
  });
});
