import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createTracer, type RequestTracer } from './index.ts';
import { RateLimitedWarn } from './export.ts';
import { startOtlpReceiver, type OtlpReceiver } from './otlp-receiver.ts';
import { captureLogger, serverInput, testConfig } from './test-helpers.ts';

function finishRequests(tracer: RequestTracer, n: number): void {
  for (let i = 0; i < n; i++) tracer.startServer(serverInput({ path: `/r/${i}` })).end({ status: 200, responseBytes: 0, requestBytes: 0 });
}

/** A port nothing listens on: bind, note it, close. */
async function deadEndpoint(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}/v1/traces`;
}

describe('export pipeline', () => {
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver();
  });
  after(() => receiver.close());

  test('shutdown flushes spans still waiting for their batch', async () => {
    const already = receiver.spans().length;
    const tracer = createTracer(testConfig({ endpoint: receiver.url, scheduledDelay: '1h' }), captureLogger().logger);
    finishRequests(tracer, 5);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(receiver.spans().length, already, 'nothing sent before the delay or a full batch');
    await tracer.shutdown(3000);
    assert.equal(receiver.spans().length, already + 5);
    assert.deepEqual(tracer.stats(), { started: 5, exported: 5, dropped: 0, failedExports: 0 });
    // Spans ending after shutdown are dropped, not queued forever.
    finishRequests(tracer, 1);
    assert.equal(tracer.stats().dropped, 1);
  });

  test('a full batch is sent without waiting for the delay', async () => {
    const already = receiver.spans().length;
    const tracer = createTracer(testConfig({ endpoint: receiver.url, scheduledDelay: '1h', maxExportBatchSize: 4 }), captureLogger().logger);
    finishRequests(tracer, 4);
    await receiver.waitForSpans(already + 4, 3000);
    await tracer.shutdown(1000);
  });

  test('queue overflow drops and counts the excess', async () => {
    const already = receiver.spans().length;
    const { logger, lines } = captureLogger();
    const tracer = createTracer(testConfig({ endpoint: receiver.url, scheduledDelay: '1h', maxQueueSize: 10, maxExportBatchSize: 10 }), logger);
    // The 10th span sends a full batch at once; while it is in flight 10 more fill the queue.
    finishRequests(tracer, 35);
    assert.equal(tracer.stats().dropped, 15);
    await tracer.shutdown(3000);
    assert.equal(receiver.spans().length, already + 20);
    assert.deepEqual(tracer.stats(), { started: 35, exported: 20, dropped: 15, failedExports: 0 });
    assert.equal(lines.filter((l) => l.msg === 'trace export queue full; dropping spans').length, 1, 'warned once');
  });

  test('the queue frees up as batches leave', async () => {
    const already = receiver.spans().length;
    const tracer = createTracer(testConfig({ endpoint: receiver.url, scheduledDelay: '10ms', maxQueueSize: 10, maxExportBatchSize: 10 }), captureLogger().logger);
    for (let round = 0; round < 3; round++) {
      finishRequests(tracer, 10);
      await receiver.waitForSpans(already + 10 * (round + 1), 3000);
    }
    await tracer.shutdown(1000);
    assert.deepEqual(tracer.stats(), { started: 30, exported: 30, dropped: 0, failedExports: 0 });
  });

  test('a collector answering 500 counts a failed export and logs once', async () => {
    const { logger, lines } = captureLogger();
    const tracer = createTracer(testConfig({ endpoint: receiver.url, scheduledDelay: '10ms', maxExportBatchSize: 2 }), logger);
    receiver.setStatus(500);
    try {
      finishRequests(tracer, 6);
      await tracer.shutdown(3000);
    } finally {
      receiver.setStatus(200);
    }
    const stats = tracer.stats();
    assert.equal(stats.exported, 0);
    assert.equal(stats.failedExports, 3);
    const warns = lines.filter((l) => l.msg === 'trace export failed; spans lost');
    assert.equal(warns.length, 1, 'rate-limited to one warn');
    assert.equal(warns[0]!.level, 40);
    assert.equal(JSON.stringify(warns).includes('collector-key'), false);
  });
});

test('a dead endpoint: no throw, failures counted, shutdown within its deadline', async () => {
  const { logger, lines } = captureLogger();
  // exportTimeout below the exporter's first retry backoff (1s): one attempt per batch.
  const tracer = createTracer(testConfig({ endpoint: await deadEndpoint(), scheduledDelay: '10ms', exportTimeout: '300ms' }, { authorization: 'collector-key' }), logger);
  finishRequests(tracer, 3);
  await new Promise((r) => setTimeout(r, 400));
  finishRequests(tracer, 2);
  const t0 = performance.now();
  await tracer.shutdown(2000);
  assert.ok(performance.now() - t0 < 2000);
  const stats = tracer.stats();
  assert.equal(stats.exported, 0);
  assert.equal(stats.failedExports, 2);
  const warn = lines.find((l) => l.msg === 'trace export failed; spans lost')!;
  assert.match(String(warn.err), /ECONNREFUSED/);
  assert.equal(JSON.stringify(lines).includes('collector-key'), false, 'export headers are never logged');
});

test('shutdown resolves by the deadline when the collector hangs', async () => {
  const hung = createServer(() => {
    // never answers
  });
  await new Promise<void>((r) => hung.listen(0, '127.0.0.1', () => r()));
  try {
    const { port } = hung.address() as AddressInfo;
    const tracer = createTracer(testConfig({ endpoint: `http://127.0.0.1:${port}/v1/traces`, scheduledDelay: '1h', exportTimeout: '30s' }), captureLogger().logger);
    finishRequests(tracer, 3);
    const t0 = performance.now();
    await tracer.shutdown(300);
    const took = performance.now() - t0;
    assert.ok(took >= 250 && took < 1000, `took ${took} ms`);
    assert.equal(tracer.stats().exported, 0);
  } finally {
    hung.closeAllConnections();
    await new Promise<void>((r) => hung.close(() => r()));
  }
});

test('RateLimitedWarn: one line per interval, the rest counted into the next', () => {
  const { logger, lines } = captureLogger();
  const w = new RateLimitedWarn(logger, 60_000);
  for (let i = 0; i < 5; i++) w.warn({ i }, 'x');
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.suppressed, 0);
  const fast = new RateLimitedWarn(logger, 0);
  fast.warn({}, 'y');
  fast.warn({}, 'y');
  assert.equal(lines.length, 3);
});
