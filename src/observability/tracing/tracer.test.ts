import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { createTracer } from './index.ts';
import { SPAN_KIND, STATUS_CODE, startOtlpReceiver, type DecodedSpan, type OtlpReceiver } from './otlp-receiver.ts';
import { captureLogger, headerMap, serverInput, testConfig } from './test-helpers.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

for (const protocol of ['http/protobuf', 'http/json'] as const) {
  describe(`export over OTLP ${protocol}`, () => {
    let receiver: OtlpReceiver;
    before(async () => {
      receiver = await startOtlpReceiver();
    });
    after(() => receiver.close());

    test('a proxied request: server and client spans with ids, attributes, status and resource', async () => {
      const tracer = createTracer(
        testConfig(
          { endpoint: receiver.url, protocol, serviceName: 'edge-gw', resourceAttributes: { 'deployment.environment': 'test' } },
          { authorization: 'Bearer collector-key' },
        ),
        captureLogger().logger,
      );
      const start = performance.timeOrigin + performance.now();
      const server = tracer.startServer(
        serverInput({
          method: 'POST',
          scheme: 'https',
          host: 'api.example.com',
          path: '/users/42',
          query: 'verbose=1&api_key=s3cret',
          listenerPort: 8443,
          clientIp: '192.0.2.7',
          clientPort: 51234,
          headers: { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'vendor=a', 'user-agent': 'curl/8.0' },
          startTime: start,
        }),
      );
      server.setRoute('/users/:id');
      const first = server.startClient({ method: 'POST', scheme: 'http', serverAddress: '10.0.0.5', serverPort: 9000, path: '/users/42?verbose=1', upstream: 'users', target: '10.0.0.5:9000' });
      first.end({ errorCode: 'upstream_connect_failed' });
      const second = server.startClient({ method: 'POST', scheme: 'http', serverAddress: '10.0.0.6', serverPort: 80, path: '/users/42', upstream: 'users', target: '10.0.0.6:80' });
      second.end({ status: 201 });
      server.end({ status: 201, responseBytes: 512, requestBytes: 64 });

      const spans = await receiver.waitForSpans(3, 5000);
      await tracer.shutdown(2000);

      const byName = (name: string): DecodedSpan[] => spans.filter((s) => s.name === name);
      const [s] = byName('POST /users/:id');
      assert.ok(s, `server span, got ${spans.map((x) => x.name).join(', ')}`);
      assert.equal(s.kind, SPAN_KIND.SERVER);
      assert.equal(s.traceId, TRACE);
      assert.equal(s.parentSpanId, PARENT);
      assert.equal(s.spanId, server.spanId);
      assert.equal(s.traceState, 'vendor=a');
      assert.equal(s.statusCode, STATUS_CODE.UNSET);
      assert.equal(s.flags & 0xff, 1, 'sampled');
      assert.deepEqual(s.attributes, {
        'http.request.method': 'POST',
        'url.path': '/users/42',
        'url.query': 'verbose=1&api_key=REDACTED',
        'url.scheme': 'https',
        'server.address': 'api.example.com',
        'server.port': 8443,
        'client.address': '192.0.2.7',
        'client.port': 51234,
        'user_agent.original': 'curl/8.0',
        'http.route': '/users/:id',
        'http.response.status_code': 201,
        'http.request.body.size': 64,
        'http.response.body.size': 512,
      });
      assert.ok(s.endTimeUnixNano > s.startTimeUnixNano);
      assert.equal(s.startTimeUnixNano / 1_000_000n, BigInt(Math.trunc(start)), 'start time is the one given');

      const clients = byName('POST');
      assert.equal(clients.length, 2);
      for (const c of clients) {
        assert.equal(c.kind, SPAN_KIND.CLIENT);
        assert.equal(c.traceId, TRACE);
        assert.equal(c.parentSpanId, server.spanId, 'client spans are children of the server span');
        assert.equal(c.attributes['sluice.upstream'], 'users');
      }
      const failed = clients.find((c) => c.attributes['server.address'] === '10.0.0.5')!;
      assert.deepEqual(failed.attributes, {
        'http.request.method': 'POST',
        'server.address': '10.0.0.5',
        'server.port': 9000,
        'url.full': 'http://10.0.0.5:9000/users/42?verbose=1',
        'sluice.upstream': 'users',
        'sluice.target': '10.0.0.5:9000',
        'sluice.error_code': 'upstream_connect_failed',
        'error.type': 'upstream_connect_failed',
      });
      assert.equal(failed.statusCode, STATUS_CODE.ERROR);
      const ok = clients.find((c) => c.attributes['server.address'] === '10.0.0.6')!;
      assert.equal(ok.attributes['http.response.status_code'], 201);
      assert.equal(ok.attributes['url.full'], 'http://10.0.0.6/users/42');
      assert.equal(ok.statusCode, STATUS_CODE.UNSET);
      assert.equal(ok.attributes['error.type'], undefined);

      // Resource and scope.
      assert.equal(s.resource['service.name'], 'edge-gw');
      assert.equal(s.resource['deployment.environment'], 'test');
      assert.equal(s.resource['host.name'], hostname());
      assert.equal(s.resource['process.pid'], process.pid);
      assert.equal(s.resource['service.version'], (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version);
      assert.equal(s.resource['telemetry.sdk.language'], 'nodejs');
      assert.equal(s.scope.name, 'sluice');

      // The configured export headers reach the collector.
      const req = receiver.requests().at(-1)!;
      assert.equal(req.headers.authorization, 'Bearer collector-key');
      assert.equal(req.contentType, protocol === 'http/json' ? 'application/json' : 'application/x-protobuf');
      assert.deepEqual(receiver.errors(), []);
      assert.deepEqual(tracer.stats(), { started: 3, exported: 3, dropped: 0, failedExports: 0 });
    });
  });
}

describe('span semantics', () => {
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver();
  });
  after(() => receiver.close());

  async function run(fn: (t: ReturnType<typeof createTracer>) => void, n: number): Promise<DecodedSpan[]> {
    const already = receiver.spans().length;
    const tracer = createTracer(testConfig({ endpoint: receiver.url }), captureLogger().logger);
    fn(tracer);
    await tracer.shutdown(3000);
    const spans = receiver.spans().slice(already);
    assert.equal(spans.length, n);
    return spans;
  }

  test('5xx marks the server span as an error with error.type; 4xx does not', async () => {
    const [bad, gone, timeout] = await run((t) => {
      t.startServer(serverInput({ path: '/a' })).end({ status: 502, errorCode: 'upstream_unavailable', responseBytes: 20, requestBytes: 0 });
      t.startServer(serverInput({ path: '/b' })).end({ status: 404, errorCode: 'route_not_found', responseBytes: 0, requestBytes: 0 });
      t.startServer(serverInput({ path: '/c' })).end({ status: 503, responseBytes: 0, requestBytes: 0 });
    }, 3);
    assert.equal(bad!.statusCode, STATUS_CODE.ERROR);
    assert.equal(bad!.attributes['error.type'], 'upstream_unavailable');
    assert.equal(gone!.statusCode, STATUS_CODE.UNSET);
    assert.equal(gone!.attributes['error.type'], undefined);
    assert.equal(gone!.attributes['sluice.error_code'], 'route_not_found');
    assert.equal(gone!.attributes['http.response.body.size'], undefined, 'sizes only when > 0');
    assert.equal(timeout!.attributes['error.type'], '503');
    assert.equal(timeout!.name, 'GET', 'no route: named by method alone');
  });

  test('no response sent: error, no status code attribute', async () => {
    const [s] = await run((t) => t.startServer(serverInput()).end({ status: 0, errorCode: 'client_aborted', responseBytes: 0, requestBytes: 0 }), 1);
    assert.equal(s!.statusCode, STATUS_CODE.ERROR);
    assert.equal(s!.attributes['error.type'], 'client_aborted');
    assert.equal(s!.attributes['http.response.status_code'], undefined);
  });

  test('client spans: 4xx is an error client side', async () => {
    const spans = await run((t) => {
      const server = t.startServer(serverInput());
      server.startClient({ method: 'GET', scheme: 'https', serverAddress: 'backend.internal', serverPort: 443, path: '/x', upstream: 'u', target: 't' }).end({ status: 429 });
      server.end({ status: 429, responseBytes: 0, requestBytes: 0 });
    }, 2);
    const c = spans.find((s) => s.kind === SPAN_KIND.CLIENT)!;
    assert.equal(c.statusCode, STATUS_CODE.ERROR);
    assert.equal(c.attributes['error.type'], '429');
    assert.equal(c.attributes['url.full'], 'https://backend.internal/x');
    assert.equal(spans.find((s) => s.kind === SPAN_KIND.SERVER)!.statusCode, STATUS_CODE.UNSET);
  });

  test('unknown methods, IPv6 hosts, ending twice', async () => {
    const [s] = await run((t) => {
      const span = t.startServer(serverInput({ method: 'PURGE', host: '[::1]:9090', listenerPort: 8080 }));
      span.setRoute('/cache');
      span.end({ status: 200, responseBytes: 0, requestBytes: 0 });
      span.end({ status: 500, responseBytes: 0, requestBytes: 0 });
    }, 1);
    assert.equal(s!.name, 'HTTP /cache');
    assert.equal(s!.attributes['http.request.method'], '_OTHER');
    assert.equal(s!.attributes['http.request.method_original'], 'PURGE');
    assert.equal(s!.attributes['server.address'], '::1');
    assert.equal(s!.attributes['server.port'], 9090);
    assert.equal(s!.attributes['http.response.status_code'], 200, 'the second end is ignored');
  });

  test('unsampled requests export nothing', async () => {
    await run((t) => {
      const span = t.startServer(serverInput({ headers: { traceparent: `00-${TRACE}-${PARENT}-00` } }));
      span.startClient({ method: 'GET', scheme: 'http', serverAddress: 'a', serverPort: 80, path: '/', upstream: 'u', target: 't' }).end({ status: 200 });
      span.end({ status: 200, responseBytes: 0, requestBytes: 0 });
      assert.equal(t.stats().started, 0);
    }, 0);
  });
});
