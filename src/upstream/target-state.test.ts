import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { UpstreamConfig } from '../config/schema/index.ts';
import type { AttemptOutcome } from './outcome.ts';
import { HealthRegistry } from './target-state.ts';
import type { Target } from './upstream.ts';

const fake = (url: string, weight = 1) => ({ id: url, weight, available: true, observers: [], health: undefined }) as unknown as Target;
const urls = ['http://a:1/', 'http://b:1/', 'http://c:1/'];
const fail: AttemptOutcome = { kind: 'connect-failure', status: 0, durationMs: 1 };
const ok: AttemptOutcome = { kind: 'success', status: 200, durationMs: 1 };

function setup(extra: Partial<UpstreamConfig> = {}, n = 3) {
  const registry = new HealthRegistry();
  const targets = urls.slice(0, n).map((u) => fake(u));
  const config = { name: 'api', targets: targets.map((t) => ({ url: t.id })), ...extra } as UpstreamConfig;
  registry.bind(config, targets);
  registry.sync([{ name: 'api', targets }]);
  return { registry, targets, config };
}

const tell = (t: Target, outcome: AttemptOutcome, times: number) => {
  for (let i = 0; i < times; i++) for (const o of t.observers) o.onOutcome(outcome);
};

describe('HealthRegistry (routability from override, checks, ejection, panic)', () => {
  it('ejects after the default 5 consecutive gateway failures; a success resets the run', () => {
    const { registry, targets } = setup();
    tell(targets[0]!, fail, 4);
    tell(targets[0]!, ok, 1);
    tell(targets[0]!, fail, 4);
    assert.equal(targets[0]!.available, true);
    tell(targets[0]!, fail, 1);
    assert.equal(targets[0]!.available, false);
    assert.equal(registry.view('api', urls[0]!)?.reason, 'outlier');
    registry.close();
  });

  it('500s do not eject by default, but do with consecutive5xx', () => {
    const five: AttemptOutcome = { kind: 'server-error', status: 500, durationMs: 1 };
    const a = setup();
    tell(a.targets[0]!, five, 20);
    assert.equal(a.targets[0]!.available, true);
    const b = setup({ outlierDetection: { consecutive5xx: 3 } });
    tell(b.targets[0]!, five, 3);
    assert.equal(b.targets[0]!.available, false);
    a.registry.close();
    b.registry.close();
  });

  it('never ejects beyond maxEjectionPercent (50 % of 3 = 1), and not at all when disabled', () => {
    const { registry, targets } = setup();
    tell(targets[0]!, fail, 5);
    tell(targets[1]!, fail, 5);
    assert.deepEqual(targets.map((t) => t.available), [false, true, true]);
    const off = setup({ outlierDetection: { enabled: false } });
    tell(off.targets[0]!, fail, 50);
    assert.equal(off.targets[0]!.available, true);
    registry.close();
    off.registry.close();
  });

  it('re-admits after the ejection time, which grows with repeated ejections (capped)', async () => {
    const { registry, targets } = setup({ outlierDetection: { baseEjectionTime: '40ms', maxEjectionTime: '60ms' } });
    const state = registry.get('api', urls[0]!)!;
    tell(targets[0]!, fail, 5);
    assert.equal(state.ejectedUntil - Date.now() <= 40, true);
    await waitFor(() => targets[0]!.available);
    // Ejected again at once: 2 × base, capped at 60 ms.
    const before = Date.now();
    tell(targets[0]!, fail, 5);
    assert.equal(state.ejections, 2);
    assert.equal(state.ejectedUntil - before >= 60 && state.ejectedUntil - before <= 70, true);
    await waitFor(() => targets[0]!.available);
    registry.close();
  });

  it('overrides: down and drained are never routable (not even in panic), up always is', () => {
    const { registry, targets } = setup({ healthCheck: { type: 'http' } });
    // Active checks configured, nothing checked yet: all unknown → 0 % healthy → panic routes to all.
    assert.deepEqual(targets.map((t) => t.available), [true, true, true]);
    assert.equal(registry.view('api', urls[0]!)?.reason, 'panic');
    registry.setOverride('api', urls[0]!, 'drained');
    registry.setOverride('api', urls[1]!, 'down');
    assert.deepEqual(targets.map((t) => t.available), [false, false, true]);
    registry.setOverride('api', urls[1]!, 'up');
    // b forced up: 1 of 2 eligible healthy = 50 %, not below the threshold: c (unknown) is out.
    assert.deepEqual(targets.map((t) => t.available), [false, true, false]);
    assert.equal(registry.view('api', urls[2]!)?.reason, 'active');
    registry.setOverride('api', urls[0]!, undefined);
    registry.setOverride('api', urls[1]!, undefined);
    registry.close();
  });

  it('active results: only healthy targets routable; below the panic threshold all are; 0 disables panic', () => {
    const { registry, targets } = setup({ healthCheck: { type: 'http' }, panicThreshold: 50 });
    registry.setActive('api', urls[0]!, 'healthy');
    registry.setActive('api', urls[1]!, 'healthy');
    registry.setActive('api', urls[2]!, 'unhealthy');
    assert.deepEqual(targets.map((t) => t.available), [true, true, false]);
    registry.setActive('api', urls[1]!, 'unhealthy');
    assert.deepEqual(targets.map((t) => t.available), [true, true, true]);
    assert.equal(registry.upstreams.get('api')!.panic, true);
    const none = setup({ healthCheck: { type: 'http' }, panicThreshold: 0 });
    for (const u of urls) none.registry.setActive('api', u, 'unhealthy');
    assert.deepEqual(none.targets.map((t) => t.available), [false, false, false]);
    registry.close();
    none.registry.close();
  });

  it('keeps state for targets present after a reload and forgets removed ones', () => {
    const { registry, targets, config } = setup({ healthCheck: { type: 'http' } });
    registry.setActive('api', urls[0]!, 'healthy');
    registry.setActive('api', urls[1]!, 'healthy');
    const next = [fake(urls[0]!), fake('http://d:1/')];
    registry.bind({ ...config, targets: next.map((t) => ({ url: t.id })) }, next);
    registry.sync([{ name: 'api', targets: next }]);
    assert.equal(registry.get('api', urls[0]!)?.active, 'healthy');
    assert.equal(registry.get('api', urls[1]!), undefined);
    assert.equal(registry.get('api', 'http://d:1/')?.active, 'unknown');
    // The new snapshot's targets are the ones written; the old ones are released.
    assert.equal(registry.get('api', urls[0]!)!.targets[0], next[0]);
    assert.equal(targets[0]!.health, registry.get('api', urls[0]!));
    registry.sync([]);
    assert.equal(registry.upstreams.size, 0);
    registry.close();
  });

  it('applyActive takes a batch keyed "upstream url" (what workers get from the primary)', () => {
    const { registry, targets } = setup({ healthCheck: { type: 'http' }, panicThreshold: 0 });
    registry.applyActive({ [`api ${urls[0]}`]: 'healthy', [`api ${urls[1]}`]: 'unhealthy', 'other http://x/': 'healthy' });
    assert.deepEqual(targets.map((t) => t.available), [true, false, false]);
    assert.deepEqual(registry.activeStates(), { [`api ${urls[0]}`]: 'healthy', [`api ${urls[1]}`]: 'unhealthy', [`api ${urls[2]}`]: 'unknown' });
    registry.close();
  });
});

async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
