import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import { fakeContext } from '../plugins/test-helpers.ts';
import { HeaderList } from '../runtime/headers.ts';
import { codecFor, trailerObject } from './grpc-codec.ts';

/** A ServerResponse stand-in recording what the codec writes. */
function recorder() {
  const out = { trailers: undefined as unknown, ended: undefined as Buffer | undefined };
  const res = {
    addTrailers(t: unknown) {
      out.trailers = t;
    },
    end(chunk?: Buffer) {
      out.ended = chunk ?? Buffer.alloc(0);
    },
  } as unknown as ServerResponse;
  return { res, out };
}

describe('codecFor', () => {
  it('is undefined for plain HTTP, so that path stays as it is', () => {
    assert.equal(codecFor(fakeContext({ headers: { 'content-type': 'application/json' } }), 1000), undefined);
    assert.equal(codecFor(fakeContext(), 1000), undefined);
  });

  it('takes min(grpc-timeout, route timeout) as the deadline, none without grpc-timeout', () => {
    const ctx = (t?: string) => fakeContext({ headers: { 'content-type': 'application/grpc', ...(t === undefined ? {} : { 'grpc-timeout': t }) } });
    assert.equal(codecFor(ctx(), 60_000)!.deadlineMs, 0);
    assert.equal(codecFor(ctx('2S'), 60_000)!.deadlineMs, 2000);
    assert.equal(codecFor(ctx('2M'), 60_000)!.deadlineMs, 60_000);
    assert.equal(codecFor(ctx('2S'), 0)!.deadlineMs, 2000);
  });

  it('native gRPC: te trailers and the remaining budget upstream; a trailers-only head becomes trailers', () => {
    const ctx = fakeContext({ headers: { 'content-type': 'application/grpc', 'grpc-timeout': '5S' } });
    const codec = codecFor(ctx, 60_000)!;
    const headers = new HeaderList(['content-type', 'application/grpc', 'grpc-timeout', '5S']);
    codec.requestHeaders(headers, ctx);
    assert.equal(headers.get('te'), 'trailers');
    assert.match(headers.get('grpc-timeout')!, /^\d+m$/);
    assert.ok(Number.parseInt(headers.get('grpc-timeout')!, 10) <= 5000);
    const head = new HeaderList(['content-type', 'application/grpc', 'grpc-status', '5', 'grpc-message', 'nope']);
    codec.responseHeaders(head);
    assert.equal(head.has('grpc-status'), false);
    const { res, out } = recorder();
    codec.end(res, []);
    assert.deepEqual(out.trailers, { 'grpc-status': '5', 'grpc-message': 'nope' });
  });

  it('gRPC-Web binary: upstream content-type, trailer frame at the end of the body', () => {
    const ctx = fakeContext({ headers: { 'content-type': 'application/grpc-web' } });
    const codec = codecFor(ctx, 0)!;
    assert.equal(codec.kind, 'grpc-web');
    const headers = new HeaderList(['content-type', 'application/grpc-web', 'x-grpc-web', '1']);
    codec.requestHeaders(headers, ctx);
    assert.equal(headers.get('content-type'), 'application/grpc');
    assert.equal(headers.has('x-grpc-web'), false);
    assert.equal(headers.get('te'), 'trailers');
    const head = new HeaderList(['content-type', 'application/grpc', 'content-length', '12']);
    codec.responseHeaders(head);
    assert.equal(head.get('content-type'), 'application/grpc-web+proto');
    assert.equal(head.has('content-length'), false);
    const { res, out } = recorder();
    const n = codec.end(res, ['grpc-status', '0']);
    assert.equal(out.trailers, undefined);
    assert.equal(out.ended![0], 0x80);
    assert.equal(n, out.ended!.length);
    assert.equal(out.ended!.subarray(5).toString(), 'grpc-status:0\r\n');
  });

  it('gRPC-Web text: +proto kept upstream, body decoded, response base64', async () => {
    const ctx = fakeContext({ headers: { 'content-type': 'application/grpc-web-text+proto' } });
    const codec = codecFor(ctx, 0)!;
    const headers = new HeaderList([]);
    codec.requestHeaders(headers, ctx);
    assert.equal(headers.get('content-type'), 'application/grpc+proto');
    const { body, length } = codec.requestBody(Readable.from([Buffer.from('AAEC'), Buffer.from('Aw==')]), 8);
    assert.equal(length, null);
    assert.deepEqual(await buffer(body!), Buffer.from([0, 1, 2, 3]));
    assert.equal(codec.data(Buffer.from([0, 1, 2, 3])).toString(), 'AAECAw==');
    const { res, out } = recorder();
    codec.fail(res, 14, 'gone');
    const frame = Buffer.from(out.ended!.toString(), 'base64');
    assert.equal(frame.subarray(5).toString(), 'grpc-status:14\r\ngrpc-message:gone\r\n');
  });

  it('trailerObject keeps repeated names', () => {
    assert.deepEqual(trailerObject(['A', '1', 'a', '2', 'b', '3']), { a: ['1', '2'], b: '3' });
  });
});
