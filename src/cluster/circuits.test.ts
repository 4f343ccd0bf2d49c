import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AttemptOutcome } from '../upstream/outcome.ts';
import { ResilienceRegistry } from '../upstream/resilience/guards.ts';
import type { Target, Upstream } from '../upstream/upstream.ts';
import { applyForcedCircuits, configuredCircuits, localResilience, mergeResilience, type CircuitView, type ResilienceReport } from './circuits.ts';

const view = (state: CircuitView['state'], calls = 0, failures = 0, retryAfterMs = 0): CircuitView => ({
  state,
  forced: null,
  retryAfterMs,
  window: { calls, failures, slowCalls: 0 },
});

function fakeUpstream(name: string, urls: string[]): Upstream {
  const targets = urls.map((id) => ({ id, available: true, inflight: 0, observers: [] as Array<{ onOutcome(o: AttemptOutcome): void }> }));
  return { name, targets } as unknown as Upstream;
}

describe('cluster circuits: merging the workers\' reports', () => {
  it('takes the worst state, counts workers per state, sums windows and keeps the longest Retry-After', () => {
    const reports: ResilienceReport[] = [
      { circuits: [['app', view('closed', 10, 1)], ['app http://a/', view('half-open', 2, 2)]], limits: [['app', { inflight: 2, queued: 1, max: 5, maxQueue: 3, queueTimeoutMs: 1000 }]] },
      { circuits: [['app', view('open', 20, 15, 4000)], ['app http://a/', view('closed', 1, 0)]], limits: [['app', { inflight: 3, queued: 0, max: 5, maxQueue: 3, queueTimeoutMs: 1000 }]] },
      { circuits: [['app', view('half-open', 1, 0)], ['app http://a/', view('closed')]], limits: [] },
    ];
    const merged = mergeResilience(reports, new Map());
    assert.deepEqual(merged.circuits.get('app'), {
      state: 'open',
      forced: null,
      retryAfterMs: 4000,
      window: { calls: 31, failures: 16, slowCalls: 0 },
      byWorker: { open: 1, 'half-open': 1, closed: 1 },
      workers: 3,
    });
    const target = merged.circuits.get('app http://a/')!;
    assert.equal(target.state, 'half-open', 'half-open is worse than closed');
    assert.deepEqual(target.byWorker, { open: 0, 'half-open': 1, closed: 2 });
    assert.deepEqual(merged.limits.get('app'), { inflight: 5, queued: 1, max: 5, maxQueue: 3, queueTimeoutMs: 1000, workers: 2 });
  });

  it('shows the primary\'s forced state as `forced`, and nothing for breakers no worker reported', () => {
    const merged = mergeResilience([{ circuits: [['app', view('open')]], limits: [] }], new Map([['app', 'open'], ['gone', 'closed']]));
    assert.equal(merged.circuits.get('app')!.forced, 'open');
    assert.equal(merged.circuits.has('gone'), false);
    assert.equal(mergeResilience([], new Map()).circuits.size, 0);
  });
});

describe('cluster circuits: forced states in a worker', () => {
  it('forces listed breakers, returns unlisted forced ones to auto, and leaves automatic ones (and their window) alone', () => {
    const registry = new ResilienceRegistry(undefined, () => 0);
    const up = fakeUpstream('app', ['http://a/', 'http://b/']);
    const guard = registry.bind(up, { consecutiveFailures: 2, failureRate: 0 }, undefined)!;
    up.resilience = guard;
    const [, b] = up.targets as Target[];
    b!.observers.forEach((o) => o.onOutcome({ kind: 'server-error', status: 503, durationMs: 1 }));

    applyForcedCircuits([up], { app: 'open', 'app http://a/': 'closed' });
    assert.equal(guard.breaker!.state, 'open');
    assert.equal(guard.breaker!.forced, 'open');
    assert.equal(guard.targets.get('http://a/')!.breaker.forced, 'closed');
    assert.equal(guard.targets.get('http://b/')!.breaker.window().failures, 1, 'an automatic breaker keeps its window');

    const report = localResilience([up]);
    assert.deepEqual(report.circuits.map(([k, v]) => [k, v.state, v.forced]), [
      ['app', 'open', 'open'],
      ['app http://a/', 'closed', 'closed'],
      ['app http://b/', 'closed', null],
    ]);

    applyForcedCircuits([up], { 'app http://b/': 'open' });
    assert.equal(guard.breaker!.forced, undefined);
    assert.equal(guard.breaker!.state, 'closed');
    assert.equal(guard.targets.get('http://a/')!.breaker.forced, undefined);
    assert.equal(b!.available, false, 'a target forced open is not routable');
  });

  it('knows which breakers a config document has', () => {
    const keys = configuredCircuits({
      upstreams: [
        { name: 'app', targets: [{ url: 'http://127.0.0.1:8080' }], circuitBreaker: {} },
        { name: 'agg', targets: [{ url: 'http://x:1' }], circuitBreaker: { perTarget: false } },
        { name: 'plain', targets: [{ url: 'http://y:1' }] },
      ],
    });
    assert.deepEqual([...keys].sort(), ['agg', 'app', 'app http://127.0.0.1:8080/']);
    assert.equal(configuredCircuits(null).size, 0);
  });
});
