import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isOverloaded, overloadSettings } from './overload.ts';

test('overload thresholds: lag or heap, each optional', () => {
  const s = overloadSettings({ eventLoopLag: '100ms', heapUsed: 90 })!;
  assert.equal(s.admitAtLeast, 2, 'default admits high and critical');
  assert.equal(isOverloaded(s, { lagMs: 50, heapFraction: 0.5 }), false);
  assert.equal(isOverloaded(s, { lagMs: 150, heapFraction: 0.5 }), true);
  assert.equal(isOverloaded(s, { lagMs: 10, heapFraction: 0.95 }), true);
  const lagOnly = overloadSettings({ eventLoopLag: '100ms' })!;
  assert.equal(isOverloaded(lagOnly, { lagMs: 10, heapFraction: 0.99 }), false);
  assert.equal(overloadSettings({ interval: '1s' }), undefined, 'no threshold: off');
  assert.equal(overloadSettings({ heapUsed: 50, admitAtLeast: 'critical' })!.admitAtLeast, 3);
});
