import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { GatewayError } from '../errors/index.ts';
import { fakeContext } from '../plugins/test-helpers.ts';
import type { DirectResponse } from './context.ts';
import { sendDirect, sendProblem } from './respond.ts';

/** The gRPC branches of sendProblem / sendDirect, on a real node:http response. */
async function answer(contentType: string, respond: (ctx: ReturnType<typeof fakeContext>) => void) {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => respond(fakeContext({ req, res, headers: req.headers, method: req.method! })));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/pkg.Svc/M`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: Buffer.alloc(5),
    });
    return { status: res.status, headers: res.headers, body: await res.text() };
  } finally {
    server.close();
  }
}

describe('gRPC answers from the gateway', () => {
  it('sendProblem: a plain request still gets problem+json', async () => {
    const r = await answer('application/json', (ctx) => sendProblem(ctx, new GatewayError('SLUICE_ERR_NO_HEALTHY_TARGET')));
    assert.equal(r.status, 503);
    assert.match(r.headers.get('content-type')!, /problem\+json/);
  });

  it('sendProblem: a gRPC request gets a trailers-only status with the extra response headers', async () => {
    const r = await answer('application/grpc', (ctx) => {
      ctx.responseHeaders.push('x-extra', '1');
      sendProblem(ctx, new GatewayError('SLUICE_ERR_BODY_TOO_LARGE', { detail: 'body exceeds 10 bytes' }));
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/grpc');
    assert.equal(r.headers.get('grpc-status'), '8');
    assert.equal(r.headers.get('grpc-message'), 'SLUICE_ERR_BODY_TOO_LARGE: body exceeds 10 bytes');
    assert.equal(r.headers.get('x-extra'), '1');
    assert.equal(r.body, '');
  });

  it('sendDirect: a plugin denial becomes the matching gRPC status; non-errors are sent as they are', async () => {
    const denial: DirectResponse = { status: 401, headers: { 'www-authenticate': 'Bearer' }, body: 'token required' };
    const r = await answer('application/grpc-web-text', (ctx) => sendDirect(ctx, denial));
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/grpc-web-text+proto');
    assert.equal(r.headers.get('grpc-status'), '16');
    assert.equal(r.headers.get('grpc-message'), 'token required');
    assert.equal(r.headers.get('www-authenticate'), 'Bearer');
    const limited = await answer('application/grpc-web', (ctx) => sendDirect(ctx, { status: 429, body: { error: 'slow down' } }));
    assert.equal(limited.headers.get('grpc-status'), '8');
    const ok = await answer('application/grpc-web', (ctx) => sendDirect(ctx, { status: 204 }));
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('grpc-status'), null);
  });
});
