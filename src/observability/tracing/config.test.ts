import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveTracingConfig } from './config.ts';

test('defaults come from the schema; durations become ms', () => {
  assert.deepEqual(resolveTracingConfig({ enabled: true }, {}), {
    enabled: true,
    endpoint: 'http://127.0.0.1:4318/v1/traces',
    protocol: 'http/protobuf',
    headers: {},
    serviceName: 'sluice',
    resourceAttributes: {},
    sampleRatio: 1,
    propagators: ['tracecontext'],
    exportTimeoutMs: 10_000,
    maxQueueSize: 2048,
    maxExportBatchSize: 128,
    scheduledDelayMs: 5000,
  });
});

test('given values, resolved headers, clamping and precedence', () => {
  const r = resolveTracingConfig(
    {
      enabled: true,
      headers: { 'x-api-key': { file: '/run/secrets/k' } },
      resourceAttributes: { 'service.name': 'from-attrs', env: 'prod' },
      propagators: ['b3', 'tracecontext', 'b3'],
      exportTimeout: '2s',
      scheduledDelay: 250,
      maxQueueSize: 100,
      maxExportBatchSize: 500,
      sampleRatio: 0.25,
    },
    { 'x-api-key': 'resolved' },
  );
  assert.deepEqual(r.headers, { 'x-api-key': 'resolved' });
  assert.equal(r.serviceName, 'from-attrs', 'an explicit service.name attribute beats the default');
  assert.deepEqual(r.propagators, ['b3', 'tracecontext']);
  assert.equal(r.exportTimeoutMs, 2000);
  assert.equal(r.scheduledDelayMs, 250);
  assert.equal(r.maxExportBatchSize, 100, 'a batch never exceeds the queue');
  assert.equal(r.sampleRatio, 0.25);
  assert.equal(resolveTracingConfig({ serviceName: 'explicit', resourceAttributes: { 'service.name': 'x' } }, {}).serviceName, 'explicit');
});
