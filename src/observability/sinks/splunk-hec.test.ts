import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSplunkHecSink } from './splunk-hec.ts';
import { startServer } from './test-server.ts';

const SLOW = { flushIntervalMs: 60_000, backoffMs: 1 };
const SUCCESS = { body: '{"text":"Success","code":0}' };

/** Parses concatenated JSON objects (HEC needs no separators) by tracking brace depth outside strings. */
function parseConcatenated(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' && depth++ === 0) start = i;
    else if (c === '}' && --depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
  }
  assert.equal(depth, 0);
  return out;
}

describe('splunk-hec sink', () => {
  it('posts event envelopes with the line time and token', async () => {
    const srv = await startServer(() => SUCCESS);
    const sink = createSplunkHecSink({ url: `${srv.url}/`, token: 'tok-1', host: 'gw1', source: 'sluice', index: 'main', ...SLOW });
    try {
      sink.write(JSON.stringify({ time: '2025-01-02T03:04:05.678Z', msg: 'a {"}' }));
      sink.write(JSON.stringify({ time: 1_700_000_000_123, status: 200 }));
      await sink.close();
      const req = srv.requests[0]!;
      assert.equal(req.url, '/services/collector/event');
      assert.equal(req.headers.authorization, 'Splunk tok-1');
      const events = parseConcatenated(req.body);
      assert.deepEqual(events[0], {
        time: Date.parse('2025-01-02T03:04:05.678Z') / 1000,
        host: 'gw1',
        source: 'sluice',
        sourcetype: '_json',
        index: 'main',
        event: { time: '2025-01-02T03:04:05.678Z', msg: 'a {"}' },
      });
      assert.equal(events[1]!.time, 1_700_000_000.123);
      assert.deepEqual(events[1]!.event, { time: 1_700_000_000_123, status: 200 });
      assert.equal(sink.stats().sent, 2);
    } finally {
      await srv.close();
    }
  });

  it('omits index when not configured and gzips when asked', async () => {
    const srv = await startServer(() => SUCCESS);
    const sink = createSplunkHecSink({ url: srv.url, token: 't', gzip: true, ...SLOW });
    try {
      sink.write('{"msg":"x"}');
      await sink.close();
      const req = srv.requests[0]!;
      assert.equal(req.headers['content-encoding'], 'gzip');
      const [event] = parseConcatenated(req.body);
      assert.equal('index' in event!, false);
      assert.equal(typeof event!.time, 'number');
      assert.equal(typeof event!.host, 'string');
    } finally {
      await srv.close();
    }
  });

});

describe('splunk-hec sink failures', () => {
  it('retries 503 server busy, then succeeds', async () => {
    const srv = await startServer((_, i) => (i < 2 ? { status: 503, body: '{"text":"Server is busy","code":9}' } : SUCCESS));
    const sink = createSplunkHecSink({ url: srv.url, token: 't', ...SLOW });
    try {
      sink.write('{}');
      await sink.close();
      assert.equal(srv.requests.length, 3);
      assert.deepEqual(sink.stats(), { name: 'splunk-hec', queued: 0, sent: 1, dropped: 0, failedBatches: 0, retries: 2 });
    } finally {
      await srv.close();
    }
  });

  it('treats a non-zero HEC code or 403 as a permanent failure', async () => {
    const srv = await startServer((_, i) =>
      i === 0 ? { body: '{"text":"Invalid data format","code":6}' } : { status: 403, body: '{"text":"Invalid token","code":4}' },
    );
    const sink = createSplunkHecSink({ url: srv.url, token: 't', ...SLOW, maxBatchLines: 1 });
    try {
      sink.write('{"a":1}');
      sink.write('{"a":2}');
      await sink.close();
      assert.equal(srv.requests.length, 2);
      assert.deepEqual(sink.stats(), { name: 'splunk-hec', queued: 0, sent: 0, dropped: 2, failedBatches: 2, retries: 0 });
    } finally {
      await srv.close();
    }
  });
});
