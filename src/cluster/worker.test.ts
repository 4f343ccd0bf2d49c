import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { UpstreamConfig } from '../config/schema/index.ts';
import type { Gateway } from '../gateway.ts';
import { HealthRegistry } from '../upstream/target-state.ts';
import type { Target, Upstream } from '../upstream/upstream.ts';
import { applyHealth, applyHealthMessage } from './worker.ts';

/** A worker's gateway as the health messages see it: the snapshot's targets and the registry. */
function fakeGateway() {
  const registry = new HealthRegistry();
  const targets = ['http://a:1/', 'http://b:1/'].map((id) => ({ id, weight: 1, available: true, observers: [], health: undefined }) as unknown as Target);
  const config = { name: 'app', targets: targets.map((t) => ({ url: t.id })), healthCheck: { type: 'http' }, panicThreshold: 0 } as UpstreamConfig;
  registry.bind(config, targets);
  registry.sync([{ name: 'app', targets }]);
  const upstreams = new Map([['app', { name: 'app', targets } as unknown as Upstream]]);
  const gateway = { health: { registry }, current: () => ({ upstreams }) } as unknown as Pick<Gateway, 'current' | 'health'>;
  return { gateway, targets, registry };
}

describe('worker: health state from the primary', () => {
  it('a new config arrives with the primary\'s active results and overrides', () => {
    const { gateway, targets, registry } = fakeGateway();
    assert.deepEqual(targets.map((t) => t.available), [false, false], 'unknown until the primary says');
    applyHealth(gateway, { health: { 'app http://b:1/': 'drained' }, activeHealth: { 'app http://a:1/': 'healthy', 'app http://b:1/': 'healthy' } });
    assert.deepEqual(targets.map((t) => t.available), [true, false]);
    // The next config without the override clears it.
    applyHealth(gateway, { health: {} });
    assert.deepEqual(targets.map((t) => t.available), [true, true]);
    registry.close();
  });

  it('broadcast messages: active results and overrides (auto clears)', () => {
    const { gateway, targets, registry } = fakeGateway();
    applyHealthMessage(gateway, { type: 'active-health', states: { 'app http://a:1/': 'healthy', 'app http://b:1/': 'unhealthy' } });
    assert.deepEqual(targets.map((t) => t.available), [true, false]);
    applyHealthMessage(gateway, { type: 'health', upstream: 'app', url: 'http://b:1/', state: 'up' });
    assert.deepEqual(targets.map((t) => t.available), [true, true]);
    applyHealthMessage(gateway, { type: 'health', upstream: 'app', url: 'http://b:1/', state: 'auto' });
    applyHealthMessage(gateway, { type: 'health', upstream: 'app', url: 'http://a:1/', state: 'down' });
    assert.deepEqual(targets.map((t) => t.available), [false, false]);
    registry.close();
  });
});
