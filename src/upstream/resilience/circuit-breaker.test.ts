import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CircuitBreaker, type BreakerSettings } from './circuit-breaker.ts';

const base: BreakerSettings = {
  windowMs: 10_000,
  buckets: 10,
  minRequests: 4,
  failureRate: 0.5,
  consecutiveFailures: 0,
  slowCallMs: 0,
  slowCallRate: 0,
  openMs: 5000,
  halfOpenProbes: 1,
  successThreshold: 2,
};

function make(over: Partial<BreakerSettings> = {}) {
  const clock = { t: 1_000_000 };
  const transitions: string[] = [];
  const b = new CircuitBreaker({ ...base, ...over }, () => clock.t, (from, to) => transitions.push(`${from}>${to}`));
  return { b, clock, transitions };
}

test('opens on the failure rate only once the minimum request count is reached', () => {
  const { b, transitions } = make();
  b.record(true, 1);
  b.record(true, 1);
  b.record(true, 1);
  assert.equal(b.state, 'closed', 'three calls are below minRequests');
  b.record(false, 1);
  assert.equal(b.state, 'open', '3 of 4 failed ≥ 50 %');
  assert.deepEqual(transitions, ['closed>open']);
  assert.equal(b.tryAcquire(), 'reject');
});

test('a failure rate below the threshold keeps it closed', () => {
  const { b } = make();
  for (let i = 0; i < 20; i++) b.record(i % 3 === 1, 1);
  assert.equal(b.state, 'closed');
});

test('old buckets leave the rolling window', () => {
  const { b, clock } = make();
  b.record(true, 1);
  b.record(true, 1);
  b.record(true, 1);
  clock.t += 11_000;
  assert.deepEqual(b.window(), { calls: 0, failures: 0, slowCalls: 0 });
  b.record(true, 1);
  assert.equal(b.state, 'closed', 'the earlier failures expired: one call in the window');
  clock.t += 1000;
  for (let i = 0; i < 3; i++) b.record(false, 1);
  assert.equal(b.state, 'closed', '1 failure of 4');
});

test('consecutive failures open regardless of the window size', () => {
  const { b } = make({ consecutiveFailures: 3, minRequests: 100 });
  b.record(true, 1);
  b.record(true, 1);
  b.record(false, 1);
  b.record(true, 1);
  b.record(true, 1);
  assert.equal(b.state, 'closed', 'a success resets the streak');
  b.record(true, 1);
  assert.equal(b.state, 'open');
});

test('slow-call rate opens the circuit', () => {
  const { b } = make({ slowCallMs: 1000, slowCallRate: 0.5, failureRate: 0 });
  b.record(false, 1500);
  b.record(false, 10);
  b.record(false, 2000);
  assert.equal(b.state, 'closed');
  b.record(false, 1000);
  assert.equal(b.state, 'open');
});

test('open → half-open after the timeout; bounded probes; closes after the success threshold', () => {
  const { b, clock, transitions } = make({ consecutiveFailures: 1 });
  b.record(true, 1);
  assert.equal(b.state, 'open');
  clock.t += 2000;
  assert.equal(b.retryAfterMs(), 3000);
  clock.t += 3000;
  assert.equal(b.state, 'half-open');
  assert.equal(b.tryAcquire(), 'probe');
  assert.equal(b.tryAcquire(), 'reject', 'one probe at a time');
  b.record(false, 1);
  b.releaseProbe(b.generation);
  assert.equal(b.state, 'half-open', 'one success of two');
  assert.equal(b.tryAcquire(), 'probe');
  b.record(false, 1);
  b.releaseProbe(b.generation);
  assert.equal(b.state, 'closed');
  assert.deepEqual(transitions, ['closed>open', 'open>half-open', 'half-open>closed']);
  assert.deepEqual(b.window(), { calls: 0, failures: 0, slowCalls: 0 }, 'closing starts a fresh window');
});

test('a failed probe reopens for another full open period', () => {
  const { b, clock } = make({ consecutiveFailures: 1 });
  b.record(true, 1);
  clock.t += 5000;
  assert.equal(b.tryAcquire(), 'probe');
  const first = b.generation;
  b.record(true, 1);
  assert.equal(b.state, 'open');
  assert.equal(b.retryAfterMs(), 5000);
  clock.t += 4999;
  assert.equal(b.state, 'open');
  clock.t += 1;
  assert.equal(b.state, 'half-open');
  assert.equal(b.tryAcquire(), 'probe');
  b.releaseProbe(first);
  assert.equal(b.probes, 1, 'a late release from the earlier half-open period frees nothing');
  assert.equal(b.tryAcquire(), 'reject');
});

test('forced states win until cleared; outcomes are ignored meanwhile', () => {
  const { b, transitions } = make({ consecutiveFailures: 1 });
  b.force('open');
  assert.equal(b.state, 'open');
  assert.equal(b.tryAcquire(), 'reject');
  assert.equal(b.retryAfterMs(), 5000);
  b.force('closed');
  b.record(true, 1);
  assert.equal(b.state, 'closed', 'forced closed does not trip');
  b.force(undefined);
  assert.equal(b.state, 'closed');
  assert.equal(b.forced, undefined);
  assert.deepEqual(transitions, ['closed>open', 'open>closed']);
});

test('reconfigure keeps state when the window shape is unchanged', () => {
  const { b } = make({ consecutiveFailures: 1 });
  b.record(true, 1);
  assert.equal(b.reconfigure({ ...base, consecutiveFailures: 1, openMs: 1000 }), true);
  assert.equal(b.state, 'open');
  assert.equal(b.reconfigure({ ...base, buckets: 5 }), false);
});
