import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createElasticsearchSink, expandIndex } from './elasticsearch.ts';
import { startServer, type Recorded } from './test-server.ts';

const SLOW = { flushIntervalMs: 60_000, backoffMs: 1 };

/** Parses a `_bulk` body into [action, document] pairs, checking the NDJSON framing. */
function bulkPairs(req: Recorded): [Record<string, { _index: string }>, unknown][] {
  const lines = req.body.split('\n');
  assert.equal(lines.pop(), '', 'bulk body must end with a newline');
  assert.equal(lines.length % 2, 0);
  const pairs: [Record<string, { _index: string }>, unknown][] = [];
  for (let i = 0; i < lines.length; i += 2) pairs.push([JSON.parse(lines[i]!), JSON.parse(lines[i + 1]!)]);
  return pairs;
}

const ok = (n: number): string => JSON.stringify({ errors: false, items: Array.from({ length: n }, () => ({ create: { status: 201 } })) });

describe('elasticsearch sink', () => {
  it('sends create actions with per-line dated indices and basic auth', async () => {
    const srv = await startServer((req) => ({ status: 200, body: ok(bulkPairs(req).length) }));
    const sink = createElasticsearchSink({ url: `${srv.url}/`, index: 'sluice-%Y.%m.%d', auth: { username: 'u', password: 'p' }, ...SLOW });
    try {
      sink.write(JSON.stringify({ time: '2024-12-31T23:59:59.500Z', msg: 'a' }));
      sink.write(JSON.stringify({ time: Date.UTC(2025, 0, 1, 0, 0, 1), msg: 'b' }));
      sink.write(JSON.stringify({ msg: 'no time' }));
      await sink.close();
      const req = srv.requests[0]!;
      assert.equal(req.url, '/_bulk');
      assert.equal(req.headers['content-type'], 'application/x-ndjson');
      assert.equal(req.headers.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
      const pairs = bulkPairs(req);
      assert.deepEqual(pairs[0], [{ create: { _index: 'sluice-2024.12.31' } }, { time: '2024-12-31T23:59:59.500Z', msg: 'a' }]);
      assert.deepEqual(pairs[1]![0], { create: { _index: 'sluice-2025.01.01' } });
      assert.equal(pairs[2]![0].create!._index, expandIndex('sluice-%Y.%m.%d', new Date()));
      assert.deepEqual(pairs[2]![1], { msg: 'no time' });
      assert.equal(sink.stats().sent, 3);
    } finally {
      await srv.close();
    }
  });

  it('uses ApiKey auth and gzip', async () => {
    const srv = await startServer(() => ({ body: ok(1) }));
    const sink = createElasticsearchSink({ url: srv.url, index: 'logs', auth: { apiKey: 'abc==' }, gzip: true, ...SLOW });
    try {
      sink.write('{"msg":"x"}');
      await sink.close();
      const req = srv.requests[0]!;
      assert.equal(req.headers.authorization, 'ApiKey abc==');
      assert.equal(req.headers['content-encoding'], 'gzip');
      assert.deepEqual(bulkPairs(req), [[{ create: { _index: 'logs' } }, { msg: 'x' }]]);
    } finally {
      await srv.close();
    }
  });

});

describe('elasticsearch sink failures', () => {
  it('retries 429 items, drops and counts other item failures', async () => {
    const srv = await startServer((req, i) => {
      if (i > 0) return { body: ok(bulkPairs(req).length) };
      const statuses = [201, 429, 400, 429];
      return { body: JSON.stringify({ errors: true, items: statuses.map((status) => ({ create: { status } })) }) };
    });
    const sink = createElasticsearchSink({ url: srv.url, index: 'logs', ...SLOW });
    try {
      for (const n of [0, 1, 2, 3]) sink.write(JSON.stringify({ n }));
      await sink.close();
      assert.equal(srv.requests.length, 2);
      assert.deepEqual(bulkPairs(srv.requests[1]!).map(([, doc]) => doc), [{ n: 1 }, { n: 3 }]);
      assert.deepEqual(sink.stats(), { name: 'elasticsearch', queued: 0, sent: 3, dropped: 1, failedBatches: 0, retries: 1 });
    } finally {
      await srv.close();
    }
  });

  it('retries a whole-request 503', async () => {
    const srv = await startServer((req, i) => (i === 0 ? { status: 503 } : { body: ok(bulkPairs(req).length) }));
    const sink = createElasticsearchSink({ url: srv.url, index: 'logs', ...SLOW });
    try {
      sink.write('{}');
      await sink.close();
      assert.equal(srv.requests.length, 2);
      assert.equal(sink.stats().sent, 1);
      assert.equal(sink.stats().retries, 1);
    } finally {
      await srv.close();
    }
  });

  it('expands %H and escapes %%', () => {
    assert.equal(expandIndex('a-%Y%m%d%H-%%', new Date(Date.UTC(2025, 1, 3, 4))), 'a-2025020304-%');
  });
});
