import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeConnections } from './primary.ts';

describe('mergeConnections (multi-process /admin/connections)', () => {
  it('sums counters and per-route WebSocket counts across workers', () => {
    const merged = mergeConnections([
      [{ listener: 'public', address: '0.0.0.0:8080', open: 3, total: 10, websockets: 2, websocketsByRoute: { chat: 2 } }],
      [
        { listener: 'public', address: '0.0.0.0:8080', open: 1, total: 4, websockets: 1, websocketsByRoute: { chat: 0, feed: 1 } },
        { listener: 'other', address: '0.0.0.0:8081', open: 0, total: 0, websockets: 0, websocketsByRoute: {} },
      ],
    ]);
    assert.deepEqual(merged, [
      { listener: 'public', address: '0.0.0.0:8080', open: 4, total: 14, websockets: 3, websocketsByRoute: { chat: 2, feed: 1 } },
      { listener: 'other', address: '0.0.0.0:8081', open: 0, total: 0, websockets: 0, websocketsByRoute: {} },
    ]);
  });

  it('does not alias the maps of the first worker', () => {
    const first = { listener: 'p', address: 'a', open: 1, total: 1, websockets: 1, websocketsByRoute: { r: 1 } };
    mergeConnections([[first], [{ ...first, websocketsByRoute: { r: 5 } }]]);
    assert.deepEqual(first.websocketsByRoute, { r: 1 });
  });
});
