import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import { B3_SAMPLING_HINT, PROPAGATION_HEADERS, createPropagation } from './propagation.ts';
import { createTracer, type RequestTracer } from './index.ts';
import type { TracingConfig } from '../../config/schema/observability.ts';
import { captureLogger, headerMap, serverInput, testConfig } from './test-helpers.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

const tracers: RequestTracer[] = [];
function tracer(overrides: TracingConfig = {}): RequestTracer {
  // Nothing is exported here: a long delay keeps the queue idle, shutdown drops it quickly.
  const t = createTracer(testConfig({ scheduledDelay: '1h', exportTimeout: '100ms', ...overrides }), captureLogger().logger);
  tracers.push(t);
  return t;
}
after(async () => {
  await Promise.all(tracers.map((t) => t.shutdown(200)));
});

function client(span: ReturnType<RequestTracer['startServer']>) {
  return span.startClient({ method: 'GET', scheme: 'http', serverAddress: '10.0.0.5', serverPort: 9000, path: '/x', upstream: 'u', target: '10.0.0.5:9000' });
}

describe('extract (unit)', () => {
  const p = createPropagation(['tracecontext', 'b3', 'b3multi']);

  test('W3C traceparent, sampled and not, with tracestate', () => {
    const ctx = p.extract({ traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'vendor=a,other=b' });
    const sc = trace.getSpanContext(ctx)!;
    assert.equal(sc.traceId, TRACE);
    assert.equal(sc.spanId, PARENT);
    assert.equal(sc.traceFlags, TraceFlags.SAMPLED);
    assert.equal(sc.isRemote, true);
    assert.equal(sc.traceState?.serialize(), 'vendor=a,other=b');
    assert.equal(trace.getSpanContext(p.extract({ traceparent: `00-${TRACE}-${PARENT}-00` }))!.traceFlags, TraceFlags.NONE);
  });

  test('malformed traceparents yield the root context', () => {
    for (const bad of ['garbage', `00-${TRACE}-${PARENT}`, `00-${'0'.repeat(32)}-${PARENT}-01`, `00-${TRACE}-${'0'.repeat(16)}-01`, `ff-${TRACE}-${PARENT}-01`, `00-${TRACE.toUpperCase()}-${PARENT}-01`, `00-${TRACE}-${PARENT}-01-extra`]) {
      assert.equal(p.extract({ traceparent: bad }), ROOT_CONTEXT, bad);
    }
  });

  test('B3 single and multi', () => {
    const single = trace.getSpanContext(p.extract({ b3: `${TRACE}-${PARENT}-1` }))!;
    assert.deepEqual([single.traceId, single.spanId, single.traceFlags], [TRACE, PARENT, TraceFlags.SAMPLED]);
    const short = trace.getSpanContext(p.extract({ b3: `a3ce929d0e0e4736-${PARENT}-0` }))!;
    assert.equal(short.traceId, '0000000000000000a3ce929d0e0e4736', '64-bit ids are left-padded');
    assert.equal(short.traceFlags, TraceFlags.NONE);
    const multi = trace.getSpanContext(p.extract({ 'x-b3-traceid': TRACE, 'x-b3-spanid': PARENT, 'x-b3-sampled': '1' }))!;
    assert.deepEqual([multi.traceId, multi.spanId, multi.traceFlags], [TRACE, PARENT, TraceFlags.SAMPLED]);
  });

  test('first configured propagator wins when several headers are present', () => {
    const other = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    const headers = { traceparent: `00-${TRACE}-${PARENT}-01`, b3: `${other}-${PARENT}-1` };
    assert.equal(trace.getSpanContext(createPropagation(['tracecontext', 'b3']).extract(headers))!.traceId, TRACE);
    assert.equal(trace.getSpanContext(createPropagation(['b3', 'tracecontext']).extract(headers))!.traceId, other);
    // A malformed first format falls through to the next.
    assert.equal(trace.getSpanContext(createPropagation(['tracecontext', 'b3']).extract({ ...headers, traceparent: 'junk' }))!.traceId, other);
  });

  test('only configured formats are read', () => {
    assert.equal(createPropagation(['tracecontext']).extract({ b3: `${TRACE}-${PARENT}-1` }), ROOT_CONTEXT);
    assert.equal(createPropagation(['b3']).extract({ traceparent: `00-${TRACE}-${PARENT}-01` }), ROOT_CONTEXT);
  });

  test('B3 sampling hints: deferred decision and deny', () => {
    assert.equal(p.extract({ b3: `${TRACE}-${PARENT}` }).getValue(B3_SAMPLING_HINT), 'deferred');
    assert.equal(p.extract({ 'x-b3-traceid': TRACE, 'x-b3-spanid': PARENT }).getValue(B3_SAMPLING_HINT), 'deferred');
    assert.equal(p.extract({ b3: `${TRACE}-${PARENT}-0` }).getValue(B3_SAMPLING_HINT), undefined);
    assert.equal(p.extract({ b3: '0' }).getValue(B3_SAMPLING_HINT), 'deny');
    assert.equal(p.extract({ 'x-b3-sampled': '0' }).getValue(B3_SAMPLING_HINT), 'deny');
  });

  test('PROPAGATION_HEADERS covers every format', () => {
    for (const h of ['traceparent', 'tracestate', 'b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-sampled', 'x-b3-flags', 'x-b3-parentspanid']) {
      assert.ok(PROPAGATION_HEADERS.includes(h), h);
    }
  });
});

describe('server and client spans', () => {
  test('sampled W3C parent: same trace, sampled, tracestate forwarded upstream', () => {
    const t = tracer({ sampleRatio: 0 });
    const server = t.startServer(serverInput({ headers: { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'vendor=a' } }));
    assert.equal(server.traceId, TRACE);
    assert.match(server.spanId, HEX16);
    assert.notEqual(server.spanId, PARENT);
    assert.equal(server.sampled, true, 'a sampled parent wins over ratio 0');
    const c = client(server);
    const h = headerMap(c.headers);
    assert.deepEqual(Object.keys(h), ['traceparent', 'tracestate']);
    const [version, traceId, spanId, flags] = h.traceparent!.split('-');
    assert.deepEqual([version, traceId, flags], ['00', TRACE, '01']);
    assert.notEqual(spanId, server.spanId, 'upstream sees the client span as its parent');
    assert.equal(h.tracestate, 'vendor=a');
    c.end({ status: 200 });
    server.end({ status: 200, responseBytes: 0, requestBytes: 0 });
  });

  test('unsampled W3C parent: not sampled even at ratio 1, trace id still propagated with flags 00', () => {
    const t = tracer({ sampleRatio: 1 });
    const server = t.startServer(serverInput({ headers: { traceparent: `00-${TRACE}-${PARENT}-00`, tracestate: 'vendor=a' } }));
    assert.equal(server.sampled, false);
    assert.equal(server.traceId, TRACE);
    const h = headerMap(client(server).headers);
    assert.match(h.traceparent!, new RegExp(`^00-${TRACE}-[0-9a-f]{16}-00$`));
    assert.equal(h.tracestate, 'vendor=a');
    const before = t.stats().started;
    server.setRoute('/users/:id');
    server.end({ status: 200, responseBytes: 1, requestBytes: 1 });
    assert.equal(t.stats().started, before, 'unsampled spans are not recorded');
  });

  test('malformed traceparent: a new root, no error', () => {
    const t = tracer({ sampleRatio: 1 });
    const server = t.startServer(serverInput({ headers: { traceparent: '00-nothex-00f067aa0ba902b7-01' } }));
    assert.match(server.traceId, HEX32);
    assert.notEqual(server.traceId, TRACE);
    assert.equal(server.sampled, true);
  });

  test('no parent: ratio 1 samples, ratio 0 does not but still propagates', () => {
    const on = tracer({ sampleRatio: 1 }).startServer(serverInput());
    assert.equal(on.sampled, true);
    assert.match(on.traceId, HEX32);
    const off = tracer({ sampleRatio: 0 }).startServer(serverInput());
    assert.equal(off.sampled, false);
    assert.match(off.traceId, HEX32);
    assert.match(headerMap(client(off).headers).traceparent!, new RegExp(`^00-${off.traceId}-[0-9a-f]{16}-00$`));
  });

  test('ratio 0.5 samples about half of new traces', () => {
    const t = tracer({ sampleRatio: 0.5 });
    let sampled = 0;
    for (let i = 0; i < 2000; i++) if (t.startServer(serverInput()).sampled) sampled++;
    assert.ok(sampled > 850 && sampled < 1150, `sampled ${sampled}/2000`);
  });

  test('B3 single in, B3 single out', () => {
    const t = tracer({ propagators: ['b3'], sampleRatio: 0 });
    const server = t.startServer(serverInput({ headers: { b3: `${TRACE}-${PARENT}-1` } }));
    assert.equal(server.traceId, TRACE);
    assert.equal(server.sampled, true);
    const h = headerMap(client(server).headers);
    assert.deepEqual(Object.keys(h), ['b3']);
    assert.match(h.b3!, new RegExp(`^${TRACE}-[0-9a-f]{16}-1$`));
  });

  test('B3 multi in and out, unsampled', () => {
    const t = tracer({ propagators: ['b3multi'], sampleRatio: 1 });
    const server = t.startServer(serverInput({ headers: { 'x-b3-traceid': TRACE, 'x-b3-spanid': PARENT, 'x-b3-sampled': '0' } }));
    assert.equal(server.traceId, TRACE);
    assert.equal(server.sampled, false);
    const h = headerMap(client(server).headers);
    assert.deepEqual(Object.keys(h).sort(), ['x-b3-sampled', 'x-b3-spanid', 'x-b3-traceid']);
    assert.equal(h['x-b3-traceid'], TRACE);
    assert.match(h['x-b3-spanid']!, HEX16);
    assert.equal(h['x-b3-sampled'], '0');
  });

  test('B3 without a sampling decision: our ratio decides, the trace id is kept', () => {
    const on = tracer({ propagators: ['b3multi'], sampleRatio: 1 }).startServer(serverInput({ headers: { 'x-b3-traceid': TRACE, 'x-b3-spanid': PARENT } }));
    assert.deepEqual([on.traceId, on.sampled], [TRACE, true]);
    const off = tracer({ propagators: ['b3'], sampleRatio: 0 }).startServer(serverInput({ headers: { b3: `${TRACE}-${PARENT}` } }));
    assert.deepEqual([off.traceId, off.sampled], [TRACE, false]);
    const denied = tracer({ propagators: ['b3'], sampleRatio: 1 }).startServer(serverInput({ headers: { b3: '0' } }));
    assert.equal(denied.sampled, false, 'b3: 0 means do not sample');
  });

  test('several propagators inject all their headers', () => {
    const t = tracer({ propagators: ['tracecontext', 'b3', 'b3multi'] });
    assert.deepEqual([...t.headerNames].sort(), ['b3', 'traceparent', 'tracestate', 'x-b3-flags', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-spanid', 'x-b3-traceid']);
    const server = t.startServer(serverInput({ headers: { traceparent: `00-${TRACE}-${PARENT}-01` } }));
    const h = headerMap(client(server).headers);
    assert.deepEqual(Object.keys(h).sort(), ['b3', 'traceparent', 'x-b3-sampled', 'x-b3-spanid', 'x-b3-traceid']);
    const spanId = h.traceparent!.split('-')[2];
    assert.equal(h.b3, `${TRACE}-${spanId}-1`);
    assert.equal(h['x-b3-spanid'], spanId);
  });
});
