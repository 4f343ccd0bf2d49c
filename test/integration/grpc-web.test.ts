import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/servers.ts';
import {
  decodeWebText,
  deserializeReply,
  parseWebBody,
  serializeRequest,
  startGrpcServer,
  webFrame,
  type EchoRequest,
  type GrpcTestServer,
} from '../helpers/grpc.ts';

/** gRPC-Web clients (framed by hand, over HTTP/1.1) → gateway → @grpc/grpc-js server over h2c. */

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  trailers: http.IncomingHttpHeaders;
  body: Buffer;
}

function post(url: string, headers: Record<string, string>, chunks: Buffer[]): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, trailers: res.trailers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    const timer = setTimeout(() => req.destroy(new Error('test request timed out')), 10_000);
    req.on('close', () => clearTimeout(timer));
    for (const c of chunks) req.write(c);
    req.end();
  });
}

const WEB = { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1', 'x-user-agent': 'grpc-web-javascript/0.1' };
const TEXT = { 'content-type': 'application/grpc-web-text', 'x-grpc-web': '1', accept: 'application/grpc-web-text' };

function binary(gw: TestGateway, method: string, request: EchoRequest, extra: Record<string, string> = {}): Promise<Reply> {
  return post(`${gw.url}/sluice.test.Echo/${method}`, { ...WEB, ...extra }, [webFrame(serializeRequest(request))]);
}

describe('gRPC-Web → native gRPC upstream', () => {
  let server: GrpcTestServer;
  let gw: TestGateway;

  before(async () => {
    server = await startGrpcServer('web-1');
    gw = await startGateway({
      upstreams: [
        { name: 'grpc', targets: [{ url: server.url }] },
        { name: 'nobody', protocol: 'http2', targets: [{ url: server.url.replace('h2c', 'http'), weight: 0 }] },
        { name: 'refused', targets: [{ url: 'h2c://127.0.0.1:1' }] },
      ],
      routes: [
        {
          name: 'echo',
          match: { paths: ['/sluice.test.Echo/*'] },
          upstream: 'grpc',
          plugins: {
            cors: {
              origins: ['https://*.example.com'],
              allowedHeaders: ['x-grpc-web', 'x-user-agent', 'content-type', 'grpc-timeout'],
              exposeHeaders: ['grpc-status', 'grpc-message'],
              maxAge: 600,
            },
          },
        },
        { name: 'none', match: { paths: ['/sluice.test.Nobody/*'] }, upstream: 'nobody' },
        { name: 'down', match: { paths: ['/sluice.test.Down/*'] }, upstream: 'refused' },
      ],
    });
  });
  after(async () => {
    await gw.close();
    await server.close();
  });

  it('unary, binary mode: message, metadata both ways, status and trailers in the trailer frame (no HTTP trailers)', async () => {
    const r = await binary(gw, 'Unary', { message: 'hello', payload: Buffer.from('xyz') }, { 'x-test': 'abc' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/grpc-web+proto');
    assert.equal(r.headers['x-reply'], 're:abc');
    assert.deepEqual(r.trailers, {});
    const { messages, trailers } = parseWebBody(r.body);
    assert.equal(messages.length, 1);
    const reply = deserializeReply(messages[0]!);
    assert.equal(reply.message, 'hello');
    assert.equal(reply.payload.toString(), 'xyz');
    assert.equal(trailers['grpc-status'], '0');
    assert.equal(trailers['x-trailer'], 'bye');
    // The upstream got plain gRPC, not the browser's markers.
    assert.equal(server.lastMetadata?.get('x-grpc-web').length, 0);
  });

  it('server streaming, binary mode: every message then the status', async () => {
    const r = await binary(gw, 'ServerStream', { message: 's', count: 5, replyBytes: 100 });
    const { messages, trailers } = parseWebBody(r.body);
    assert.deepEqual(messages.map((m) => deserializeReply(m).index), [0, 1, 2, 3, 4]);
    assert.equal(deserializeReply(messages[4]!).payload.length, 100);
    assert.equal(trailers['grpc-status'], '0');
  });

  it('server streaming is not buffered: each message reaches the browser while the upstream is still sending', async () => {
    const firstChunk = await new Promise<{ chunk: Buffer; callsEnded: boolean }>((resolve, reject) => {
      const req = http.request(`${gw.url}/sluice.test.Echo/ServerStream`, { method: 'POST', agent: false, headers: WEB }, (res) => {
        res.once('data', (chunk: Buffer) => {
          resolve({ chunk, callsEnded: res.complete });
          res.resume();
        });
      });
      req.on('error', reject);
      // 3 replies 300 ms apart: the first must not wait for the others.
      req.end(webFrame(serializeRequest({ message: 'live', count: 3, delayMs: 300 })));
    });
    assert.equal(firstChunk.callsEnded, false);
    const { messages, trailers } = parseWebBody(firstChunk.chunk);
    assert.equal(messages.length, 1);
    assert.equal(deserializeReply(messages[0]!).index, 0);
    assert.deepEqual(trailers, {});
  });

  it('text mode: base64 request split at odd boundaries, base64 streamed response', async () => {
    const encoded = Buffer.from(webFrame(serializeRequest({ message: 'text-mode', count: 3 })).toString('base64'));
    // 1, then 2, then the rest: boundaries inside base64 quartets.
    const chunks = [encoded.subarray(0, 1), encoded.subarray(1, 3), encoded.subarray(3)];
    const r = await post(`${gw.url}/sluice.test.Echo/ServerStream`, TEXT, chunks);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/grpc-web-text+proto');
    const { messages, trailers } = parseWebBody(decodeWebText(r.body.toString('latin1')));
    assert.deepEqual(messages.map((m) => deserializeReply(m).message), ['text-mode', 'text-mode', 'text-mode']);
    assert.equal(trailers['grpc-status'], '0');
  });

  it('text mode unary', async () => {
    const body = Buffer.from(webFrame(serializeRequest({ message: 'u' })).toString('base64'));
    const r = await post(`${gw.url}/sluice.test.Echo/Unary`, TEXT, [body]);
    const { messages, trailers } = parseWebBody(decodeWebText(r.body.toString('latin1')));
    assert.equal(deserializeReply(messages[0]!).message, 'u');
    assert.equal(trailers['grpc-status'], '0');
  });

  it('a grpc-web-text body that is not base64 is refused with INTERNAL (HTTP 400 in the gRPC mapping), the upstream not called', async () => {
    const before = server.calls.Unary ?? 0;
    const r = await post(`${gw.url}/sluice.test.Echo/Unary`, TEXT, [Buffer.from('AAAA$$$$')]);
    assert.equal(r.status, 200);
    assert.equal(r.headers['grpc-status'], '13');
    assert.match(decodeURIComponent(String(r.headers['grpc-message'])), /SLUICE_ERR_BAD_REQUEST: grpc-web-text request body is not base64/);
    assert.equal(server.calls.Unary ?? 0, before);
  });

  it('an upstream error status reaches the client in the trailer frame, grpc-message percent-encoded', async () => {
    const r = await binary(gw, 'Unary', { message: 'x', failCode: 5 });
    assert.equal(r.status, 200);
    const { messages, trailers } = parseWebBody(r.body);
    assert.equal(messages.length, 0);
    assert.equal(trailers['grpc-status'], '5');
    assert.equal(decodeURIComponent(trailers['grpc-message']!), 'failed on purpose: 5 ✓');
  });

  it('an upstream trailers-only error keeps the status in the headers', async () => {
    const r = await binary(gw, 'ServerStream', { count: 0, failCode: 7 });
    assert.equal(r.status, 200);
    const status = r.headers['grpc-status'] ?? parseWebBody(r.body).trailers['grpc-status'];
    assert.equal(status, '7');
  });

  it('gateway errors are trailers-only gRPC statuses: no target → 14, no route → 12, connect refused → 14', async () => {
    const none = await binary(gw, 'Unary', {}).then(() => post(`${gw.url}/sluice.test.Nobody/Unary`, WEB, [webFrame(serializeRequest({}))]));
    assert.equal(none.status, 200);
    assert.equal(none.headers['content-type'], 'application/grpc-web+proto');
    assert.equal(none.headers['grpc-status'], '14');
    assert.match(decodeURIComponent(String(none.headers['grpc-message'])), /SLUICE_ERR_NO_HEALTHY_UPSTREAM/);
    assert.equal(none.body.length, 0);
    const missing = await post(`${gw.url}/other.Service/Call`, WEB, [webFrame(serializeRequest({}))]);
    assert.equal(missing.headers['grpc-status'], '12');
    const down = await post(`${gw.url}/sluice.test.Down/Unary`, WEB, [webFrame(serializeRequest({}))]);
    assert.equal(down.headers['grpc-status'], '14');
    assert.match(String(down.headers['grpc-message']), /SLUICE_ERR_UPSTREAM_CONNECT/);
  });

  it('grpc-timeout is the call deadline: DEADLINE_EXCEEDED, the remaining budget propagated, the upstream call cancelled', async () => {
    const cancelledBefore = server.cancelled;
    const r = await binary(gw, 'Unary', { message: 'slow', delayMs: 3000 }, { 'grpc-timeout': '300m' });
    assert.equal(r.status, 200);
    const status = r.headers['grpc-status'] ?? parseWebBody(r.body).trailers['grpc-status'];
    assert.equal(status, '4');
    const seen = server.lastDeadlineMs;
    assert.ok(seen !== undefined && seen > 0 && seen <= 300, `upstream deadline ${seen} ms`);
    for (let i = 0; i < 50 && server.cancelled === cancelledBefore; i++) await new Promise((res) => setTimeout(res, 20));
    assert.equal(server.cancelled, cancelledBefore + 1);
  });

  it('CORS: preflight answered with 204, actual response carries the CORS headers', async () => {
    const pre = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http
        .request(`${gw.url}/sluice.test.Echo/Unary`, {
          method: 'OPTIONS',
          agent: false,
          headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-grpc-web,content-type' },
        }, (res) => {
          res.resume();
          res.on('end', () => resolve(res));
        })
        .on('error', reject)
        .end();
    });
    assert.equal(pre.statusCode, 204);
    assert.equal(pre.headers['access-control-allow-origin'], 'https://app.example.com');
    assert.match(String(pre.headers['access-control-allow-methods']), /POST/);
    assert.equal(pre.headers['access-control-allow-headers'], 'x-grpc-web, x-user-agent, content-type, grpc-timeout');
    assert.equal(pre.headers['access-control-max-age'], '600');
    assert.equal(server.calls.OPTIONS, undefined);

    const actual = await binary(gw, 'Unary', { message: 'c' }, { origin: 'https://app.example.com' });
    assert.equal(actual.headers['access-control-allow-origin'], 'https://app.example.com');
    assert.equal(actual.headers['access-control-expose-headers'], 'grpc-status, grpc-message');
    assert.match(String(actual.headers.vary), /Origin/);
    const other = await binary(gw, 'Unary', { message: 'c' }, { origin: 'https://example.org' });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  });
});
