import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConcurrencyLimiter, type LimitRejection } from './limiter.ts';

function recorder() {
  const events: string[] = [];
  return {
    events,
    req: (l: ConcurrencyLimiter, name: string, priority: number) =>
      l.acquire(priority, () => events.push(`${name}:ok`), (why: LimitRejection) => events.push(`${name}:${why}`)),
  };
}

test('admits up to max, queues up to maxQueue, refuses beyond', () => {
  const l = new ConcurrencyLimiter({ max: 2, maxQueue: 1, queueTimeoutMs: 0 });
  const { events, req } = recorder();
  req(l, 'a', 1);
  req(l, 'b', 1);
  req(l, 'c', 1);
  req(l, 'd', 1);
  assert.deepEqual(events, ['a:ok', 'b:ok', 'd:limit']);
  assert.equal(l.queued, 1);
  l.release();
  assert.deepEqual(events, ['a:ok', 'b:ok', 'd:limit', 'c:ok']);
  assert.equal(l.inflight, 2);
  assert.equal(l.queued, 0);
});

test('freed slots go to the highest priority first, FIFO within a class', () => {
  const l = new ConcurrencyLimiter({ max: 1, maxQueue: 10, queueTimeoutMs: 0 });
  const { events, req } = recorder();
  req(l, 'first', 1);
  req(l, 'low1', 0);
  req(l, 'norm', 1);
  req(l, 'crit', 3);
  req(l, 'low2', 0);
  for (let i = 0; i < 4; i++) l.release();
  assert.deepEqual(events, ['first:ok', 'crit:ok', 'norm:ok', 'low1:ok', 'low2:ok']);
});

test('a full queue sheds its newest lowest-priority waiter for a higher-priority arrival', () => {
  const l = new ConcurrencyLimiter({ max: 1, maxQueue: 2, queueTimeoutMs: 0 });
  const { events, req } = recorder();
  req(l, 'x', 1);
  req(l, 'low1', 0);
  req(l, 'low2', 0);
  req(l, 'crit', 3);
  req(l, 'low3', 0);
  assert.deepEqual(events, ['x:ok', 'low2:shed', 'low3:limit']);
  l.release();
  l.release();
  assert.deepEqual(events.slice(3), ['crit:ok', 'low1:ok']);
});

test('queue timeout rejects a waiter; cancel removes one', async () => {
  const l = new ConcurrencyLimiter({ max: 1, maxQueue: 5, queueTimeoutMs: 20 });
  const { events, req } = recorder();
  req(l, 'a', 1);
  req(l, 'b', 1);
  const c = req(l, 'c', 1)!;
  l.cancel(c);
  assert.equal(l.queued, 1);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(events, ['a:ok', 'b:queue-timeout']);
  assert.equal(l.queued, 0);
  l.release();
  assert.equal(l.inflight, 0);
});

test('raising the limit on reload admits waiters', () => {
  const l = new ConcurrencyLimiter({ max: 1, maxQueue: 5, queueTimeoutMs: 0 });
  const { events, req } = recorder();
  req(l, 'a', 1);
  req(l, 'b', 1);
  l.reconfigure({ max: 2, maxQueue: 5, queueTimeoutMs: 0 });
  assert.deepEqual(events, ['a:ok', 'b:ok']);
});
