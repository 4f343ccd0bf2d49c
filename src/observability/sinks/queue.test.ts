import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { createHttpNdjsonSink } from './http-ndjson.ts';
import { BatchingQueue, backoffDelay, batchOptions, parseRetryAfter } from './queue.ts';
import { startServer } from './test-server.ts';

const SLOW = { flushIntervalMs: 60_000 }; // no interval flushes unless a test wants them

/** A fake send that records batches; `gate` (when set) holds each send until released. */
function recorder() {
  const batches: string[][] = [];
  let release: (() => void) | undefined;
  let gate: Promise<void> | undefined;
  return {
    batches,
    hold() {
      gate = new Promise((r) => (release = r));
    },
    release() {
      release?.();
      gate = undefined;
    },
    send: async (batch: string[]) => {
      if (gate) await gate;
      batches.push(batch);
    },
  };
}

describe('BatchingQueue batching', () => {
  it('cuts batches by line count and sends the remainder on flush', async () => {
    const r = recorder();
    const q = new BatchingQueue('t', r.send, { ...SLOW, maxBatchLines: 4 });
    for (let i = 0; i < 10; i++) q.write(`{"n":${i}}`);
    await delay(20);
    assert.deepEqual(r.batches.map((b) => b.length), [4, 4]);
    assert.equal(q.stats().queued, 2);
    await q.flush();
    assert.deepEqual(r.batches.map((b) => b.length), [4, 4, 2]);
    assert.deepEqual(r.batches.flat(), Array.from({ length: 10 }, (_, i) => `{"n":${i}}`));
    assert.equal(q.stats().sent, 10);
    await q.close();
  });

  it('cuts batches by bytes (whole lines only)', async () => {
    const r = recorder();
    const q = new BatchingQueue('t', r.send, { ...SLOW, maxBatchBytes: 100 });
    const line = 'x'.repeat(30); // 31 bytes with the newline: 3 per 100-byte batch
    for (let i = 0; i < 7; i++) q.write(line);
    await q.flush();
    assert.deepEqual(r.batches.map((b) => b.length), [3, 3, 1]);
    await q.close();
  });

  it('sends a partial batch on the interval timer', async () => {
    const r = recorder();
    const q = new BatchingQueue('t', r.send, { flushIntervalMs: 20 });
    q.write('{"a":1}\n'); // trailing newline is stripped
    q.write('{"a":2}');
    for (let i = 0; i < 50 && r.batches.length === 0; i++) await delay(10);
    assert.deepEqual(r.batches, [['{"a":1}', '{"a":2}']]);
    await q.close();
  });
});

describe('BatchingQueue bounds and shutdown', () => {
  it('drops and counts lines beyond maxQueueLines while a batch is in flight', async () => {
    const r = recorder();
    r.hold();
    const q = new BatchingQueue('t', r.send, { ...SLOW, maxBatchLines: 2, maxQueueLines: 5 });
    q.write('a');
    q.write('b'); // full batch: goes in flight and blocks
    for (let i = 0; i < 10; i++) q.write(`q${i}`);
    assert.deepEqual(q.stats(), { name: 't', queued: 7, sent: 0, dropped: 5, failedBatches: 0, retries: 0 });
    r.release();
    await q.close();
    assert.deepEqual(r.batches.flat(), ['a', 'b', 'q0', 'q1', 'q2', 'q3', 'q4']);
    assert.deepEqual(q.stats(), { name: 't', queued: 0, sent: 7, dropped: 5, failedBatches: 0, retries: 0 });
  });

  it('close delivers everything queued, then drops later writes', async () => {
    const r = recorder();
    const q = new BatchingQueue('t', r.send, { ...SLOW, maxBatchLines: 3 });
    for (let i = 0; i < 8; i++) q.write(String(i));
    await q.close();
    assert.equal(r.batches.flat().length, 8);
    q.write('late');
    assert.equal(q.stats().dropped, 1);
  });

  it('close gives up at the deadline when the destination hangs', async () => {
    const q = new BatchingQueue('t', () => new Promise<void>(() => {}), { ...SLOW });
    q.write('a');
    q.write('b');
    const start = Date.now();
    await q.close(50);
    assert.ok(Date.now() - start < 1000);
    const s = q.stats();
    assert.equal(s.sent, 0);
    assert.equal(s.dropped, 2);
    assert.equal(s.queued, 0);
  });

  it('close during a retry backoff leaves no unhandled rejection behind', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // Fails fast (retryable) and rejects when its signal is aborted, like fetch does.
      const send = (_batch: string[], signal: AbortSignal) =>
        signal.aborted ? Promise.reject(signal.reason as Error) : Promise.reject(new Error('connection refused'));
      const q = new BatchingQueue('t', send, { ...SLOW, backoffMs: 5_000, maxRetries: 5 });
      q.write('a');
      await q.flush(50); // now sleeping in the backoff
      await q.close(10);
      await delay(50);
      assert.deepEqual(unhandled, []);
      assert.equal(q.stats().dropped, 1);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('times out a send that ignores its signal', async () => {
    const q = new BatchingQueue('t', () => new Promise<void>(() => {}), { ...SLOW, timeoutMs: 30, maxRetries: 0 });
    q.write('a');
    await q.flush(2000);
    assert.deepEqual(q.stats(), { name: 't', queued: 0, sent: 0, dropped: 1, failedBatches: 1, retries: 0 });
    await q.close();
  });
});

describe('BatchingQueue retries over HTTP', () => {
  it('retries 503 twice then succeeds', async () => {
    const srv = await startServer((_, i) => (i < 2 ? { status: 503 } : { status: 200 }));
    const sink = createHttpNdjsonSink({ url: srv.url, ...SLOW, backoffMs: 5 });
    try {
      sink.write('{"a":1}');
      await sink.close();
      assert.equal(srv.requests.length, 3);
      assert.ok(srv.requests.every((r) => r.body === '{"a":1}\n'));
      assert.deepEqual(sink.stats(), { name: 'http-ndjson', queued: 0, sent: 1, dropped: 0, failedBatches: 0, retries: 2 });
    } finally {
      await srv.close();
    }
  });

  it('honours Retry-After on 429', async () => {
    const times: number[] = [];
    const srv = await startServer((_, i) => {
      times.push(Date.now());
      return i === 0 ? { status: 429, headers: { 'retry-after': '0.15' } } : {};
    });
    const sink = createHttpNdjsonSink({ url: srv.url, ...SLOW, backoffMs: 1 });
    try {
      sink.write('{}');
      await sink.close();
      assert.equal(times.length, 2);
      assert.ok(times[1]! - times[0]! >= 140, `waited ${times[1]! - times[0]!} ms`);
      assert.equal(sink.stats().sent, 1);
    } finally {
      await srv.close();
    }
  });

});

describe('BatchingQueue give-up over HTTP', () => {
  it('gives up after maxRetries and counts the failed batch', async () => {
    const srv = await startServer(() => ({ status: 500 }));
    const sink = createHttpNdjsonSink({ url: srv.url, ...SLOW, backoffMs: 1, maxRetries: 2 });
    try {
      sink.write('a');
      sink.write('b');
      await sink.close();
      assert.equal(srv.requests.length, 3);
      assert.deepEqual(sink.stats(), { name: 'http-ndjson', queued: 0, sent: 0, dropped: 2, failedBatches: 1, retries: 2 });
    } finally {
      await srv.close();
    }
  });

  it('does not retry a 400', async () => {
    const srv = await startServer(() => ({ status: 400, body: 'bad' }));
    const sink = createHttpNdjsonSink({ url: srv.url, ...SLOW, backoffMs: 1 });
    try {
      sink.write('a');
      await sink.close();
      assert.equal(srv.requests.length, 1);
      assert.equal(sink.stats().failedBatches, 1);
      assert.equal(sink.stats().retries, 0);
    } finally {
      await srv.close();
    }
  });

  it('retries connection errors', async () => {
    const srv = await startServer();
    const url = srv.url;
    await srv.close(); // nothing listens on the port now
    const sink = createHttpNdjsonSink({ url, ...SLOW, backoffMs: 1, maxRetries: 1 });
    sink.write('a');
    await sink.close();
    assert.deepEqual(sink.stats(), { name: 'http-ndjson', queued: 0, sent: 0, dropped: 1, failedBatches: 1, retries: 1 });
  });
});

describe('queue helpers', () => {
  it('parses Retry-After seconds and HTTP dates', () => {
    assert.equal(parseRetryAfter('2'), 2000);
    assert.equal(parseRetryAfter(new Date(11_000).toUTCString(), 1_000), 10_000);
    assert.equal(parseRetryAfter('99999'), 60_000);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(null), undefined);
  });

  it('backs off exponentially with jitter, capped at 10 s', () => {
    for (let i = 0; i < 20; i++) {
      const d = backoffDelay(200, 3);
      assert.ok(d >= 800 && d <= 1600);
      assert.ok(backoffDelay(200, 30) <= 10_000);
    }
  });

  it('fills defaults and ignores non-batch keys', () => {
    const o = batchOptions({ maxRetries: 1, ...({ url: 'x' } as object) });
    assert.deepEqual(o, { maxBatchLines: 500, maxBatchBytes: 1048576, flushIntervalMs: 1000, maxQueueLines: 10000, maxRetries: 1, backoffMs: 200, timeoutMs: 10000 });
  });
});
