import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { EchoClient, startGrpcServer, type EchoReply, type EchoRequest, type GrpcTestServer } from '../helpers/grpc.ts';
import { startGateway, type TestGateway } from '../helpers/servers.ts';

/**
 * Native gRPC end to end: @grpc/grpc-js client → gateway (h2c prior knowledge on its cleartext
 * listener) → @grpc/grpc-js server over the HTTP/2 upstream pool. Needs the public listeners to
 * accept HTTP/2 (the listener work of issue 5).
 */

type Unary = (req: EchoRequest, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: EchoReply) => void) => grpc.ClientUnaryCall;
interface Echo extends grpc.Client {
  Unary: Unary;
  ServerStream(req: EchoRequest, md?: grpc.Metadata, opts?: grpc.CallOptions): grpc.ClientReadableStream<EchoReply>;
  ClientStream(md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: EchoReply) => void): grpc.ClientWritableStream<EchoRequest>;
  Bidi(md?: grpc.Metadata, opts?: grpc.CallOptions): grpc.ClientDuplexStream<EchoRequest, EchoReply>;
}

const BIG = 16 << 20;

function unary(client: Echo, req: EchoRequest, md = new grpc.Metadata(), opts: grpc.CallOptions = {}) {
  return new Promise<{ reply?: EchoReply; error?: grpc.ServiceError; headers?: grpc.Metadata; trailers?: grpc.Metadata }>((resolve) => {
    let headers: grpc.Metadata | undefined;
    let trailers: grpc.Metadata | undefined;
    let result: { reply?: EchoReply; error?: grpc.ServiceError } | undefined;
    const done = () => {
      if (result !== undefined && trailers !== undefined) resolve({ ...result, headers, trailers });
    };
    const call = client.Unary(req, md, { deadline: Date.now() + 10_000, ...opts }, (error, reply) => {
      result = error === null ? { reply } : { error };
      done();
    });
    call.on('metadata', (m) => (headers = m));
    call.on('status', (s: grpc.StatusObject) => {
      trailers = s.metadata;
      done();
    });
  });
}

describe('native gRPC through the gateway', () => {
  let server: GrpcTestServer;
  let gw: TestGateway;
  let client: Echo;

  before(async () => {
    server = await startGrpcServer('native');
    gw = await startGateway({
      listeners: [{ name: 'public', host: '127.0.0.1', port: 0, limits: { maxBodySize: '32mb' } }],
      upstreams: [
        { name: 'grpc', targets: [{ url: server.url }] },
        { name: 'short', targets: [{ url: server.url }], timeouts: { response: '300ms' } },
        { name: 'refused', targets: [{ url: 'h2c://127.0.0.1:1' }] },
      ],
      routes: [
        // Routing by service/method: one method of the service goes elsewhere.
        { name: 'slow-unary', match: { paths: ['/sluice.test.Echo/Unary'], headers: [{ name: 'x-route', exact: 'short' }] }, upstream: 'short' },
        { name: 'echo', match: { paths: ['/sluice.test.Echo/*'] }, upstream: 'grpc' },
        { name: 'down', match: { paths: ['/sluice.test.Down/*'] }, upstream: 'refused' },
      ],
    });
    client = new EchoClient(`127.0.0.1:${gw.port}`, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': BIG,
      'grpc.max_send_message_length': BIG,
    }) as unknown as Echo;
  });
  after(async () => {
    client?.close();
    await gw.close();
    await server.close();
  });

  it('unary: message, request metadata, response headers and trailers, status OK', async () => {
    const md = new grpc.Metadata();
    md.set('x-test', 'native');
    const r = await unary(client, { message: 'hi' }, md);
    assert.equal(r.error, undefined);
    assert.equal(r.reply?.message, 'hi');
    assert.deepEqual(r.headers?.get('x-reply'), ['re:native']);
    assert.deepEqual(r.trailers?.get('x-trailer'), ['bye']);
  });

  it('server streaming', async () => {
    const replies: number[] = [];
    const call = client.ServerStream({ message: 's', count: 10 });
    await new Promise<void>((resolve, reject) => {
      call.on('data', (r: EchoReply) => replies.push(r.index));
      call.on('error', reject);
      call.on('end', () => resolve());
    });
    assert.deepEqual(replies, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('client streaming', async () => {
    const reply = await new Promise<EchoReply>((resolve, reject) => {
      const call = client.ClientStream(new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err, res) => (err ? reject(err) : resolve(res!)));
      for (const m of ['a', 'b', 'c', 'd', 'e']) call.write({ message: m, payload: Buffer.alloc(1000) });
      call.end();
    });
    assert.equal(reply.message, 'a,b,c,d,e');
    assert.equal(reply.index, 5000);
  });

  it('bidirectional streaming: each reply arrives before the next request is sent', async () => {
    const call = client.Bidi();
    const got: string[] = [];
    const next = () => new Promise<EchoReply>((resolve) => call.once('data', resolve));
    for (const m of ['x', 'y', 'z']) {
      const reply = next();
      call.write({ message: m });
      got.push((await reply).message);
    }
    call.end();
    await new Promise<void>((resolve) => call.on('end', resolve).resume());
    assert.deepEqual(got, ['x', 'y', 'z']);
  });

  it('4 MiB messages both ways', async () => {
    const payload = Buffer.alloc(4 << 20, 7);
    const r = await unary(client, { message: 'big', payload });
    assert.equal(r.error, undefined);
    assert.equal(r.reply?.payload.length, 4 << 20);
    assert.ok(r.reply!.payload.equals(payload));
  });

  it('upstream statuses and messages are propagated', async () => {
    const r = await unary(client, { message: 'x', failCode: grpc.status.FAILED_PRECONDITION });
    assert.equal(r.error?.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(r.error?.details, 'failed on purpose: 9 ✓');
    assert.deepEqual(r.trailers?.get('x-trailer'), ['bye']);
  });

  it('gateway errors are gRPC statuses: no route → UNIMPLEMENTED, connect refused → UNAVAILABLE', async () => {
    const other = new EchoClient(`127.0.0.1:${gw.port}`, grpc.credentials.createInsecure()) as unknown as Echo;
    try {
      // Same messages on a service the gateway has no route for.
      const call = (path: string) =>
        new Promise<grpc.ServiceError>((resolve) => {
          other.makeUnaryRequest(path, (x: Buffer) => x, (x: Buffer) => x, Buffer.alloc(0), (err) => resolve(err!));
        });
      assert.equal((await call('/nope.Service/Call')).code, grpc.status.UNIMPLEMENTED);
      const down = await call('/sluice.test.Down/Unary');
      assert.equal(down.code, grpc.status.UNAVAILABLE);
      assert.match(down.details, /SLUICE_ERR_UPSTREAM_CONNECT/);
    } finally {
      other.close();
    }
  });

  it('deadline: min(grpc-timeout, route timeout) is enforced by the gateway and propagated upstream', async () => {
    const md = new grpc.Metadata();
    md.set('x-route', 'short');
    const started = Date.now();
    const r = await unary(client, { message: 'slow', delayMs: 5000 }, md, { deadline: Date.now() + 8000 });
    assert.equal(r.error?.code, grpc.status.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - started < 8000, 'the gateway, not the client, ended the call');
    assert.ok(server.lastDeadlineMs !== undefined && server.lastDeadlineMs <= 300, `upstream deadline ${server.lastDeadlineMs}`);
  });

  it('client cancellation reaches the upstream (RST_STREAM CANCEL)', async () => {
    const before = server.cancelled;
    const call = client.ServerStream({ message: 'c', count: 100, delayMs: 50 });
    await new Promise<void>((resolve) => call.once('data', () => resolve()));
    call.on('error', () => {});
    call.cancel();
    for (let i = 0; i < 100 && server.cancelled === before; i++) await new Promise((res) => setTimeout(res, 20));
    assert.equal(server.cancelled, before + 1);
  });
});
