import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AttemptOutcome } from '../outcome.ts';
import type { Target, Upstream } from '../upstream.ts';
import { ResilienceRegistry } from './guards.ts';

/** The parts of Upstream/Target the registry touches. */
function fakeUpstream(name: string, urls: string[]): Upstream {
  const targets = urls.map((id) => ({ id, available: true, inflight: 0, observers: [] as Array<{ onOutcome(o: AttemptOutcome): void }> }));
  return { name, targets } as unknown as Upstream;
}

const fail = (status = 503): AttemptOutcome => ({ kind: 'server-error', status, durationMs: 1 });
const ok: AttemptOutcome = { kind: 'success', status: 200, durationMs: 1 };
const tell = (t: Target, o: AttemptOutcome) => t.observers.forEach((obs) => obs.onOutcome(o));

test('an open target breaker makes its target unroutable until it half-opens', () => {
  const clock = { t: 0 };
  const registry = new ResilienceRegistry(undefined, () => clock.t);
  const up = fakeUpstream('u', ['http://a/', 'http://b/']);
  const guard = registry.bind(up, { consecutiveFailures: 2, failureRate: 0, openDuration: '1s' }, undefined)!;
  const [a, b] = up.targets as Target[];
  tell(a!, fail());
  tell(b!, ok);
  tell(a!, fail());
  assert.equal(a!.available, false);
  assert.equal(b!.available, true);
  assert.equal(guard.breaker!.state, 'closed', 'the upstream saw no two failures in a row');
  assert.equal(guard.watchedTargets, 1);
  clock.t += 1000;
  guard.refreshTargets();
  assert.equal(a!.available, true, 'half-open: traffic may probe it');
  a!.inflight = 1;
  guard.refreshTargets();
  assert.equal(a!.available, false, 'one probe (halfOpenProbes: 1) is out: no more traffic');
  a!.inflight = 0;
  tell(a!, { kind: 'cancelled', status: 0, durationMs: 1 });
  assert.equal(a!.available, true, 'a cancelled probe gives its place back');
  assert.equal(guard.targets.get('http://a/')!.breaker.state, 'half-open');
  tell(a!, ok);
  assert.equal(guard.targets.get('http://a/')!.breaker.state, 'closed');
  assert.equal(guard.watchedTargets, 0);
});

test('failureStatuses limits which 5xx count; cancelled attempts count for nothing', () => {
  const registry = new ResilienceRegistry(undefined, () => 0);
  const up = fakeUpstream('u', ['http://a/']);
  const guard = registry.bind(up, { consecutiveFailures: 2, failureRate: 0, failureStatuses: [503], perTarget: false }, undefined)!;
  const [a] = up.targets as Target[];
  tell(a!, fail(500));
  tell(a!, fail(500));
  tell(a!, { kind: 'cancelled', status: 0, durationMs: 1 });
  assert.equal(guard.breaker!.state, 'closed');
  tell(a!, { kind: 'connect-failure', status: 0, durationMs: 1 });
  tell(a!, fail(503));
  assert.equal(guard.breaker!.state, 'open');
  assert.equal(a!.available, true, 'perTarget: false leaves routing alone');
});

test('a rebuilt snapshot keeps breaker state and gets an open target unroutable from the start', () => {
  const registry = new ResilienceRegistry(undefined, () => 0);
  const config = { consecutiveFailures: 1, failureRate: 0 };
  const first = fakeUpstream('u', ['http://a/']);
  registry.bind(first, config, undefined);
  tell((first.targets as Target[])[0]!, fail());
  const second = fakeUpstream('u', ['http://a/', 'http://c/']);
  const guard = registry.bind(second, config, { maxInflight: 3 })!;
  assert.equal(guard.breaker!.state, 'open');
  assert.deepEqual(second.targets.map((t) => t.available), [false, true]);
  assert.equal(guard.limiter!.settings.max, 3);
  registry.retain([], []);
  assert.equal(registry.upstreams.size, 0, 'an upstream gone from the config is forgotten');
});
