import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { ERROR_CODES, type ErrorCode } from '../errors/codes.ts';
import { GatewayError } from '../errors/index.ts';
import {
  encodeGrpcMessage,
  formatGrpcTimeout,
  grpcKind,
  grpcMessageOf,
  GrpcStatus,
  grpcStatusOf,
  grpcStatusOfHttp,
  parseGrpcTimeout,
  sendTrailersOnly,
} from './grpc.ts';

describe('grpcKind', () => {
  it('recognises gRPC and gRPC-Web content types with suffixes and parameters', () => {
    assert.equal(grpcKind('application/grpc'), 'grpc');
    assert.equal(grpcKind('application/grpc+proto'), 'grpc');
    assert.equal(grpcKind('Application/GRPC; charset=utf-8'), 'grpc');
    assert.equal(grpcKind('application/grpc-web'), 'grpc-web');
    assert.equal(grpcKind('application/grpc-web+proto'), 'grpc-web');
    assert.equal(grpcKind('application/grpc-web-text'), 'grpc-web-text');
    assert.equal(grpcKind('application/grpc-web-text+proto'), 'grpc-web-text');
  });
  it('rejects everything else', () => {
    for (const ct of [undefined, '', 'application/json', 'application/grpcx', 'application/grpc-webby', 'application/grpc-web-textual', 'text/grpc']) {
      assert.equal(grpcKind(ct), undefined, String(ct));
    }
  });
});

describe('gRPC status mapping', () => {
  it('maps every gateway error code', () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const status = grpcStatusOf(new GatewayError(code));
      assert.ok(Number.isInteger(status) && status > 0 && status <= 16, code);
    }
  });
  it('follows the spec/Envoy table for the codes that matter', () => {
    const of = (code: ErrorCode) => grpcStatusOf(new GatewayError(code));
    assert.equal(of('SLUICE_ERR_ROUTE_NOT_FOUND'), GrpcStatus.UNIMPLEMENTED);
    assert.equal(of('SLUICE_ERR_UPSTREAM_CONNECT'), GrpcStatus.UNAVAILABLE);
    assert.equal(of('SLUICE_ERR_UPSTREAM_RESET'), GrpcStatus.UNAVAILABLE);
    assert.equal(of('SLUICE_ERR_NO_HEALTHY_TARGET'), GrpcStatus.UNAVAILABLE);
    assert.equal(of('SLUICE_ERR_UPSTREAM_TIMEOUT'), GrpcStatus.DEADLINE_EXCEEDED);
    assert.equal(of('SLUICE_ERR_BODY_TOO_LARGE'), GrpcStatus.RESOURCE_EXHAUSTED);
    assert.equal(of('SLUICE_ERR_INTERNAL'), GrpcStatus.INTERNAL);
    assert.equal(of('SLUICE_ERR_BAD_REQUEST'), GrpcStatus.INTERNAL);
    // An injected abort follows the status the operator chose.
    assert.equal(grpcStatusOf(new GatewayError('SLUICE_ERR_FAULT_INJECTED', { status: 429 })), GrpcStatus.RESOURCE_EXHAUSTED);
    assert.equal(of('SLUICE_ERR_FAULT_INJECTED'), GrpcStatus.UNAVAILABLE);
  });
  it('maps plain HTTP statuses of plugin answers', () => {
    assert.equal(grpcStatusOfHttp(401), GrpcStatus.UNAUTHENTICATED);
    assert.equal(grpcStatusOfHttp(403), GrpcStatus.PERMISSION_DENIED);
    assert.equal(grpcStatusOfHttp(429), GrpcStatus.RESOURCE_EXHAUSTED);
    assert.equal(grpcStatusOfHttp(503), GrpcStatus.UNAVAILABLE);
    assert.equal(grpcStatusOfHttp(418), GrpcStatus.UNKNOWN);
  });
  it('never exposes an upstream error detail in grpc-message', () => {
    const e = new GatewayError('SLUICE_ERR_UPSTREAM_CONNECT', { detail: 'connect ECONNREFUSED 10.0.0.5:50051' });
    assert.equal(grpcMessageOf(e), 'SLUICE_ERR_UPSTREAM_CONNECT: Upstream Connection Failed');
    assert.equal(grpcMessageOf(new GatewayError('SLUICE_ERR_ROUTE_NOT_FOUND', { detail: 'no route for POST /a.B/C' })), 'SLUICE_ERR_ROUTE_NOT_FOUND: no route for POST /a.B/C');
  });
});

describe('grpc-message encoding', () => {
  it('percent-encodes %, controls and non-ASCII as UTF-8', () => {
    assert.equal(encodeGrpcMessage('plain text: ok'), 'plain text: ok');
    assert.equal(encodeGrpcMessage('100% done'), '100%25 done');
    assert.equal(encodeGrpcMessage('a\nb'), 'a%0Ab');
    assert.equal(encodeGrpcMessage('✓'), '%E2%9C%93');
    assert.equal(decodeURIComponent(encodeGrpcMessage('ünïcode ✓ 100%')), 'ünïcode ✓ 100%');
  });
});

describe('grpc-timeout', () => {
  it('parses every unit', () => {
    assert.equal(parseGrpcTimeout('1H'), 3_600_000);
    assert.equal(parseGrpcTimeout('2M'), 120_000);
    assert.equal(parseGrpcTimeout('2S'), 2000);
    assert.equal(parseGrpcTimeout('100m'), 100);
    assert.equal(parseGrpcTimeout('5000u'), 5);
    assert.equal(parseGrpcTimeout('3000000n'), 3);
  });
  it('ignores malformed values', () => {
    for (const v of [undefined, '', '10', 'm', '123456789m', '1.5S', '-1S', '10x', ['1S']]) assert.equal(parseGrpcTimeout(v as string), undefined, String(v));
  });
  it('formats the remaining budget in at most 8 digits', () => {
    assert.equal(formatGrpcTimeout(250.2), '251m');
    assert.equal(formatGrpcTimeout(-5), '0m');
    assert.equal(formatGrpcTimeout(99_999_999), '99999999m');
    assert.equal(formatGrpcTimeout(100_000_000), '100000S');
  });
});

describe('sendTrailersOnly', () => {
  it('answers HTTP 200 with the status in the headers and an empty body', async () => {
    const server = http.createServer((req, res) => sendTrailersOnly(res, 'grpc-web', 14, 'down ✓', ['access-control-allow-origin', '*'], false));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`, { method: 'POST' });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/grpc-web+proto');
      assert.equal(res.headers.get('grpc-status'), '14');
      assert.equal(res.headers.get('grpc-message'), 'down %E2%9C%93');
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      assert.equal(await res.text(), '');
    } finally {
      server.close();
    }
  });
});
