import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestSummary } from '../observability/summary.ts';
import { healthIndicators } from './summary-health.ts';

describe('summary health indicators', () => {
  it('grades each upstream by targets in rotation and last-minute error rate', () => {
    const s = new RequestSummary();
    for (let i = 0; i < 100; i++) s.record('r', 'good', 200, 1);
    for (let i = 0; i < 100; i++) s.record('r', 'flaky', i < 10 ? 502 : 200, 1);
    for (let i = 0; i < 10; i++) s.record('r', 'broken', 503, 1);
    const health = healthIndicators(s.snapshot(), [
      { name: 'good', targets: [{ url: 'a', available: true, inflight: 2 }] },
      { name: 'flaky', targets: [{ url: 'a', available: true, inflight: 0 }] },
      { name: 'broken', targets: [{ url: 'a', available: true, inflight: 0 }] },
      { name: 'drained', targets: [{ url: 'a', available: false, inflight: 0 }, { url: 'b', available: true, inflight: 0 }] },
      { name: 'gone', targets: [{ url: 'a', available: false, inflight: 0 }] },
    ]);
    assert.equal(health.upstreams.good!.status, 'ok');
    assert.equal(health.upstreams.good!.requestsInFlight, 2);
    assert.equal(health.upstreams.flaky!.status, 'degraded');
    assert.equal(health.upstreams.broken!.status, 'critical');
    assert.deepEqual(health.upstreams.drained!.reasons, ['1 of 2 targets out of rotation']);
    assert.equal(health.upstreams.drained!.status, 'degraded');
    assert.equal(health.upstreams.gone!.status, 'critical');
    assert.equal(health.status, 'critical');
  });
});
