import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { SPAN_KIND, STATUS_CODE, startOtlpReceiver, type DecodedSpan, type OtlpReceiver } from '../../src/observability/tracing/otlp-receiver.ts';
import { rawRequest, request, startGateway, startUpstream, type TestGateway, type TestServer } from '../helpers/servers.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

describe('OpenTelemetry tracing through the gateway', () => {
  let receiver: OtlpReceiver;
  let upstream: TestServer;
  let deadUrl: string;
  const seen: IncomingHttpHeaders[] = [];

  const config = (tracing: Record<string, unknown>) => ({
    upstreams: [
      { name: 'app', targets: [{ url: upstream.url }] },
      { name: 'dead', targets: [{ url: deadUrl }] },
    ],
    routes: [
      { name: 'api', match: { paths: ['/api/*'] }, upstream: 'app' },
      { name: 'down', match: { paths: ['/down'] }, upstream: 'dead' },
    ],
    observability: { tracing: { endpoint: receiver.url, scheduledDelay: '50ms', ...tracing } },
  });

  /** Spans of one trace, once `n` of them arrived. */
  async function traceSpans(traceId: string, n: number): Promise<DecodedSpan[]> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const spans = receiver.spans().filter((s) => s.traceId === traceId);
      if (spans.length >= n) return spans;
      if (Date.now() > deadline) assert.fail(`expected ${n} spans of trace ${traceId}, got ${spans.length}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  before(async () => {
    receiver = await startOtlpReceiver();
    upstream = await startUpstream((req, res) => {
      seen.push(req.headers);
      req.resume();
      res.writeHead(req.url === '/api/missing' ? 404 : 200, { 'content-type': 'text/plain' }).end('ok');
    });
    const closed = await startUpstream(() => undefined);
    deadUrl = closed.url;
    await closed.close();
  });
  after(async () => {
    await upstream.close();
    await receiver.close();
  });

  describe('tracecontext, http/json', () => {
    let gw: TestGateway;
    before(async () => {
      gw = await startGateway(config({ enabled: true, protocol: 'http/json', resourceAttributes: { 'deployment.environment': 'test' } }));
    });
    after(() => gw.close());

    it('continues an incoming sampled trace: server span child of the caller, client span child of the server span, propagated upstream', async () => {
      seen.length = 0;
      const res = await request(`${gw.url}/api/items?x=1`, {
        headers: { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'vendor=abc' },
      });
      assert.equal(res.status, 200);
      const sent = TRACEPARENT.exec(String(seen[0]!.traceparent));
      assert.ok(sent, `upstream got traceparent ${seen[0]!.traceparent}`);
      assert.equal(sent[1], TRACE);
      assert.notEqual(sent[2], PARENT);
      assert.equal(sent[3], '01');
      assert.equal(seen[0]!.tracestate, 'vendor=abc');

      const spans = await traceSpans(TRACE, 2);
      const server = spans.find((s) => s.kind === SPAN_KIND.SERVER)!;
      const client = spans.find((s) => s.kind === SPAN_KIND.CLIENT)!;
      assert.equal(server.parentSpanId, PARENT);
      assert.equal(server.name, 'GET api');
      assert.equal(server.attributes['http.route'], 'api');
      assert.equal(server.attributes['http.request.method'], 'GET');
      assert.equal(server.attributes['url.path'], '/api/items');
      assert.equal(server.attributes['url.query'], 'x=1');
      assert.equal(Number(server.attributes['http.response.status_code']), 200);
      assert.notEqual(server.statusCode, STATUS_CODE.ERROR);
      assert.equal(server.resource['service.name'], 'sluice');
      assert.equal(server.resource['deployment.environment'], 'test');
      assert.equal(client.parentSpanId, server.spanId);
      // The upstream's parent is the client span: what it logs links to our attempt.
      assert.equal(client.spanId, sent[2]);
      assert.equal(client.attributes['sluice.upstream'], 'app');
      assert.equal(client.attributes['server.address'], '127.0.0.1');
      assert.equal(Number(client.attributes['http.response.status_code']), 200);
    });

    it('starts a new trace without a parent and puts its id in the access log', async () => {
      seen.length = 0;
      assert.equal((await request(`${gw.url}/api/new`)).status, 200);
      const sent = TRACEPARENT.exec(String(seen[0]!.traceparent))!;
      const spans = await traceSpans(sent[1]!, 2);
      assert.equal(spans.find((s) => s.kind === SPAN_KIND.SERVER)!.parentSpanId, '');
      const line = gw.logs.find((l) => l.kind === 'access' && l.path === '/api/new');
      assert.equal(line?.traceId, sent[1]);
    });

    it('follows an unsampled parent: propagates the trace with flags 00 and exports nothing', async () => {
      seen.length = 0;
      const trace = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1';
      assert.equal((await request(`${gw.url}/api/quiet`, { headers: { traceparent: `00-${trace}-${PARENT}-00` } })).status, 200);
      const sent = TRACEPARENT.exec(String(seen[0]!.traceparent))!;
      assert.equal(sent[1], trace);
      assert.equal(sent[3], '00');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(receiver.spans().filter((s) => s.traceId === trace).length, 0);
    });

    it('marks upstream failures as errors on both spans', async () => {
      const trace = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2';
      assert.equal((await request(`${gw.url}/down`, { headers: { traceparent: `00-${trace}-${PARENT}-01` } })).status, 502);
      const spans = await traceSpans(trace, 2);
      const server = spans.find((s) => s.kind === SPAN_KIND.SERVER)!;
      const client = spans.find((s) => s.kind === SPAN_KIND.CLIENT)!;
      assert.equal(server.statusCode, STATUS_CODE.ERROR);
      assert.equal(Number(server.attributes['http.response.status_code']), 502);
      assert.equal(client.statusCode, STATUS_CODE.ERROR);
      assert.equal(client.attributes['error.type'], 'SLUICE_ERR_UPSTREAM_CONNECT');
    });

    it('does not mark a 404 from the upstream as a server error', async () => {
      const trace = 'cccccccccccccccccccccccccccccc03';
      assert.equal((await request(`${gw.url}/api/missing`, { headers: { traceparent: `00-${trace}-${PARENT}-01` } })).status, 404);
      const server = (await traceSpans(trace, 2)).find((s) => s.kind === SPAN_KIND.SERVER)!;
      assert.notEqual(server.statusCode, STATUS_CODE.ERROR);
    });

    it('traces a request rejected before routing (no Host: 400)', async () => {
      const trace = 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeee05';
      const reply = await rawRequest(gw.port, `GET /api/x HTTP/1.1\r\ntraceparent: 00-${trace}-${PARENT}-01\r\nconnection: close\r\n\r\n`);
      assert.match(reply, /^HTTP\/1.1 400/);
      const [server] = await traceSpans(trace, 1);
      assert.equal(server!.kind, SPAN_KIND.SERVER);
      assert.equal(Number(server!.attributes['http.response.status_code']), 400);
      assert.equal(server!.attributes['sluice.error_code'], 'SLUICE_ERR_BAD_HOST');
    });

    it('turns off on reload: the client\'s traceparent then passes through untouched', async () => {
      const outcome = await gw.gateway.reload({
        listeners: [{ name: 'public', host: '127.0.0.1', port: gw.port }],
        admin: { enabled: false },
        ...config({ enabled: false }),
      });
      assert.equal(outcome.ok, true);
      seen.length = 0;
      const incoming = `00-${TRACE}-${PARENT}-01`;
      assert.equal((await request(`${gw.url}/api/off`, { headers: { traceparent: incoming } })).status, 200);
      assert.equal(seen[0]!.traceparent, incoming);
    });
  });

  it('exports OTLP protobuf and propagates B3 when configured', async () => {
    const gw = await startGateway(config({ enabled: true, protocol: 'http/protobuf', propagators: ['b3'] }));
    try {
      seen.length = 0;
      const trace = 'dddddddddddddddddddddddddddddd04';
      const res = await request(`${gw.url}/api/b3`, { headers: { b3: `${trace}-${PARENT}-1` } });
      assert.equal(res.status, 200);
      const b3 = /^([0-9a-f]{32})-([0-9a-f]{16})-1$/.exec(String(seen[0]!.b3));
      assert.ok(b3, `upstream got b3 ${seen[0]!.b3}`);
      assert.equal(b3[1], trace);
      const spans = await traceSpans(trace, 2);
      assert.equal(spans.find((s) => s.kind === SPAN_KIND.CLIENT)!.spanId, b3[2]);
      assert.ok(receiver.requests().some((r) => r.contentType === 'application/x-protobuf'));
    } finally {
      await gw.close();
    }
  });

  it('samples new traces by ratio (0 → none recorded, ids still propagated)', async () => {
    const gw = await startGateway(config({ enabled: true, sampleRatio: 0 }));
    try {
      seen.length = 0;
      assert.equal((await request(`${gw.url}/api/ratio`)).status, 200);
      const sent = TRACEPARENT.exec(String(seen[0]!.traceparent))!;
      assert.equal(sent[3], '00');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(receiver.spans().filter((s) => s.traceId === sent[1]).length, 0);
    } finally {
      await gw.close();
    }
  });
});
