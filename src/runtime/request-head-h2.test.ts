import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { GatewayError } from '../errors/index.ts';
import { parseRequestHead } from './request-head.ts';

function h2(headers: Record<string, string>, url: string | undefined, raw?: string[]): IncomingMessage {
  return {
    httpVersionMajor: 2,
    httpVersionMinor: 0,
    headers,
    rawHeaders: raw ?? Object.entries(headers).flat(),
    url,
  } as unknown as IncomingMessage;
}

describe('parseRequestHead for HTTP/2 requests', () => {
  it('takes the authority from :authority, else Host', () => {
    assert.deepEqual(parseRequestHead(h2({ ':authority': 'API.test:8443', host: 'other' }, '/a/../b?x=1')), {
      host: 'api.test',
      authority: 'API.test:8443',
      path: '/b',
      query: 'x=1',
    });
    const viaHost = parseRequestHead(h2({ host: 'h.test' }, '/'));
    assert.ok(!(viaHost instanceof GatewayError));
    assert.equal(viaHost.host, 'h.test');
  });

  it('rejects a request with no authority, two Host fields, or a non-origin target', () => {
    const none = parseRequestHead(h2({ ':method': 'GET' }, '/'));
    assert.ok(none instanceof GatewayError && none.code === 'SLUICE_ERR_BAD_HOST');
    const twice = parseRequestHead(h2({ ':authority': 'a' }, '/', [':authority', 'a', 'host', 'a', 'host', 'b']));
    assert.ok(twice instanceof GatewayError && twice.code === 'SLUICE_ERR_BAD_HOST');
    const star = parseRequestHead(h2({ ':authority': 'a' }, '*'));
    assert.ok(star instanceof GatewayError && star.code === 'SLUICE_ERR_BAD_REQUEST');
    const missing = parseRequestHead(h2({ ':authority': 'a' }, undefined));
    assert.ok(missing instanceof GatewayError && missing.code === 'SLUICE_ERR_BAD_REQUEST');
  });
});
