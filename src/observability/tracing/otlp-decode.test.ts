import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { decodeJsonTraces, decodeProtobufTraces, SPAN_KIND, STATUS_CODE } from './otlp-decode.ts';

test('protobuf and JSON decoders agree on every attribute type', async () => {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'svc', n: 7 }), spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer('scope-a', '1.2.3');
  const parent = tracer.startSpan('parent', { kind: SpanKind.SERVER }, ROOT_CONTEXT);
  const child = tracer.startSpan('child', { kind: SpanKind.CLIENT }, trace.setSpan(ROOT_CONTEXT, parent));
  child.setAttributes({ s: 'x', t: true, f: false, neg: -42, big: 2 ** 40, d: 1.5, strs: ['a', 'b'], ints: [1, -2], empty: '' });
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  child.end();
  parent.end();
  await provider.forceFlush();
  const spans = memory.getFinishedSpans();

  const fromProto = decodeProtobufTraces(ProtobufTraceSerializer.serializeRequest(spans)!);
  const fromJson = decodeJsonTraces(JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans)!)));
  assert.deepEqual(fromProto, fromJson);

  const c = fromProto.find((s) => s.name === 'child')!;
  const p = fromProto.find((s) => s.name === 'parent')!;
  assert.deepEqual(c.attributes, { s: 'x', t: true, f: false, neg: -42, big: 2 ** 40, d: 1.5, strs: ['a', 'b'], ints: [1, -2], empty: '' });
  assert.equal(c.kind, SPAN_KIND.CLIENT);
  assert.equal(p.kind, SPAN_KIND.SERVER);
  assert.equal(c.parentSpanId, p.spanId);
  assert.equal(p.parentSpanId, '');
  assert.equal(c.traceId, child.spanContext().traceId);
  assert.equal(c.statusCode, STATUS_CODE.ERROR);
  assert.equal(c.statusMessage, 'boom');
  assert.deepEqual(c.scope, { name: 'scope-a', version: '1.2.3' });
  assert.deepEqual(c.resource, { 'service.name': 'svc', n: 7 });
  assert.ok(c.endTimeUnixNano >= c.startTimeUnixNano && c.startTimeUnixNano > 1_600_000_000_000_000_000n);
  await provider.shutdown();
});

test('malformed protobuf throws instead of inventing spans', () => {
  assert.throws(() => decodeProtobufTraces(new Uint8Array([0x0a, 0x05, 0x01])), /truncated/);
});
